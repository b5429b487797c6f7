//! Stage 12, reporting: the KPIs of a period in the tenant's timezone against the previous
//! period, with a daily series. `rollup.rs` — a day in counters and the KPIs of any days
//! (pure); `histogram.rs`, `distinct.rs` — durations and customers that add up across days
//! (pure); `period.rs` — local days and their bounds (pure); `compute.rs` — a run of days from
//! the operational tables; `store.rs` — the stored rollups; `service.rs` — the report and
//! the rollup job; `graphql.rs`, `export.rs` — the API and the CSV.

pub mod compute;
pub mod distinct;
pub mod export;
pub mod graphql;
pub mod histogram;
pub mod period;
pub mod rollup;
pub mod service;
pub mod store;
