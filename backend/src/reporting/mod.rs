//! Stage 12, reporting (groundwork): `period.rs` — periods in the tenant's timezone with the
//! previous period for comparison; `histogram.rs` — mergeable duration histograms, so daily
//! rollups can answer the median and p90 of any period. Both pure; the KPIs, their rollup
//! jobs, GraphQL and CSV come next.

pub mod histogram;
pub mod period;
