//! Stage 11, reconciliation: the tenant's double-entry ledger. `book.rs` holds the chart of
//! accounts and the posting rules (pure: an operation in, a balanced entry out).

pub mod book;
