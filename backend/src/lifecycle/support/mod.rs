//! Stage 8, the inbox: support threads with shoppers, inbound mail, the intent classifier and
//! the automatic replies and proposed actions it allows.

pub mod automate;
pub mod draft;
pub mod graphql;
pub mod html_text;
pub mod http;
pub mod inbound;
pub mod intent;
pub mod loaders;
pub mod repo;
pub mod service;
