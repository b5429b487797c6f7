//! The order lifecycle, one module per stage. Each stage has the same parts: `decide.rs` or
//! `validate.rs` (pure decisions with reasons), `repo.rs` (tenant-scoped persistence), a
//! service or job that loads facts, decides, stores and emits, and `graphql.rs` (state and
//! overrides). A stage's background work is a typed job in its `jobs.rs` (or the service
//! file that runs it, see the README's table). `events.rs` decides who hears of the events
//! the stages record.

pub mod allocation;
pub mod capture;
pub mod engine;
pub mod events;
pub mod fraud;
pub mod inventory;
pub mod ledger;
pub mod machine;
pub mod notify;
pub mod payment;
pub mod reconcile;
pub mod refund;
pub mod returns;
pub mod routing;
pub mod settings;
pub mod shipping;
pub mod state;
pub mod support;
pub mod tracking;
pub mod transition;
pub mod warehouse;
