//! Demand forecasting methods, each a pure function of a daily demand series (units per
//! selling day, oldest first) giving the next `h` days.
//!
//! - [`smoothing`]: simple exponential smoothing, its smoothing weight fitted to the series.
//! - [`intermittent`]: Croston's method, its bias-corrected form (SBA) and TSB, for the
//!   SKUs most stores mostly have: many days without a sale.
//! - [`baseline`]: seasonal naive and moving average, which every other method must beat.
//! - [`accuracy`]: MASE, WAPE and bias, the measures a backtest reports.

pub mod accuracy;
pub mod baseline;
pub mod intermittent;
pub mod smoothing;

/// Smoothing weights tried when one is fitted: 0.01 to 0.99 by 0.01 is fine enough for demand
/// that is mostly noise, and cheap (99 passes over the series).
pub(crate) fn weights() -> impl Iterator<Item = f64> {
    (1..100).map(|i| f64::from(i) / 100.0)
}

/// The weight of `weights()` whose one-step-ahead errors over `y` are smallest, by `sse`.
pub(crate) fn best_weight(sse: impl Fn(f64) -> f64) -> f64 {
    weights()
        .map(|w| (w, sse(w)))
        .fold(
            (0.1, f64::INFINITY),
            |best, (w, e)| if e < best.1 { (w, e) } else { best },
        )
        .0
}
