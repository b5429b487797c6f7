//! Automation rules (across stages), in the manner of Shopify Flow: a trigger (timeline
//! events), a condition (`expr.rs`: typed, checked when saved, evaluated over `facts.rs`),
//! actions (`actions.rs`; `tasks.rs` keeps the staff tasks they make). `service.rs` runs a
//! new order's rules in its capture transaction and queues a job per rule for every other
//! event; every run is logged, and a match is on the order's timeline.

pub mod actions;
pub mod expr;
pub mod facts;
pub mod graphql;
pub mod service;
pub mod tasks;
