//! Automation rules (across stages), in the manner of Shopify Flow: a trigger (timeline
//! events), a condition (`expr.rs`: typed, checked when saved, evaluated over `facts.rs`),
//! actions (`actions.rs`). `service.rs` queues a run per rule and event with the event and
//! runs it as a job; every run is logged, and a match is on the order's timeline.

pub mod actions;
pub mod expr;
pub mod facts;
pub mod graphql;
pub mod service;
