//! The order lifecycle, one module per stage. Each stage has the same parts: `decide.rs`
//! (pure decisions with reasons), `repo.rs` (tenant-scoped persistence), a service or job
//! that loads facts, decides, stores and emits, and `graphql.rs` (state and overrides).

pub mod inventory;
