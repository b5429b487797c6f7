//! Inventory planning: what each SKU will sell, and what to buy before it runs out.
//!
//! [`forecast`] holds the forecasting methods and their measures, pure functions over daily
//! demand series, so that the same code forecasts a tenant's SKUs and is evaluated on real
//! retail data (`backend/examples/forecast_eval.rs`).

pub mod forecast;
