//! Stage 8, notify: every customer-facing event becomes an email, from the tenant's own
//! templates in the shopper's locale, sent once by a job. Inbound support mail lives in
//! [`crate::lifecycle::support`].
//!
//! Decided in `trigger.rs` and `templates.rs` (pure); stored by `repo.rs`; run by `jobs.rs`
//! (`SendNotification`, batched) over `service.rs`, which also reacts to recorded events;
//! exposed in `graphql.rs`, with the shopper's public pages in `http.rs`.

pub mod context;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod kind;
pub mod loaders;
pub mod locale;
pub mod repo;
pub mod reviews;
pub mod sender;
pub mod service;
pub mod settings;
pub mod templates;
pub mod trigger;
