//! The order lifecycle, one module per stage. Each stage has the same parts: `decide.rs` or
//! `validate.rs` (pure decisions with reasons), `repo.rs` (tenant-scoped persistence), a
//! service or job that loads facts, decides, stores and emits, and `graphql.rs` (state and
//! overrides).

pub mod capture;
pub mod inventory;
pub mod state;
