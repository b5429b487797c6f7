//! Stage 8, the inbox: support threads with shoppers, inbound mail, the intent classifier and
//! the automatic replies and proposed actions it allows.
//!
//! Decided in `intent.rs` and `automate.rs` (pure); stored by `repo.rs`; run by `service.rs` on
//! inbound mail (`http.rs`, read by `inbound.rs`), with no job of its own; exposed in
//! `graphql.rs`.

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
