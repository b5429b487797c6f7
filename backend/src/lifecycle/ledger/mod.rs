//! Stage 11, reconciliation: the tenant's double-entry ledger. `book.rs` holds the chart of
//! accounts and the posting rules (pure: an operation in, a balanced entry out); `service.rs`
//! books the other stages' money events, once each; `repo.rs` stores them, append-only.

pub mod book;
pub mod export;
pub mod graphql;
pub mod repo;
pub mod service;
