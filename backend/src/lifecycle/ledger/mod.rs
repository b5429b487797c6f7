//! Stage 11, reconciliation: the tenant's double-entry ledger. `book.rs` holds the chart of
//! accounts and the posting rules (pure: an operation in, a balanced entry out); `service.rs`
//! books the other stages' money events, once each; `repo.rs` stores them, append-only.
//!
//! Decided in `book.rs` (pure); stored by `repo.rs`; run by `service.rs`, called by the stages
//! that move money (no job of its own); exposed in `graphql.rs`, downloaded through
//! `export.rs`.

pub mod book;
pub mod export;
pub mod graphql;
pub mod repo;
pub mod service;
