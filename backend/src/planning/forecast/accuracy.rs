//! How good a forecast was, as a backtest reports it: MASE (errors scaled by the seasonal
//! naive forecast's in-sample errors, so series of any size compare), WAPE (errors over
//! demand) and bias (too much or too little over demand).

/// The mean absolute error of the seasonal naive forecast one step ahead over `history`,
/// season `m`: MASE's scale. `None` when it cannot be measured or is zero (a series that
/// never changed gives nothing to scale by).
pub fn naive_scale(history: &[f64], m: usize) -> Option<f64> {
    if m == 0 || history.len() <= m {
        return None;
    }
    let diffs: Vec<f64> = history
        .windows(m + 1)
        .map(|w| (w[m] - w[0]).abs())
        .collect();
    let scale = diffs.iter().sum::<f64>() / diffs.len() as f64;
    (scale > 0.0).then_some(scale)
}

/// Mean absolute error of `forecast` against `actual`, over `scale`.
pub fn mase(forecast: &[f64], actual: &[f64], scale: f64) -> f64 {
    mae(forecast, actual) / scale
}

pub fn mae(forecast: &[f64], actual: &[f64]) -> f64 {
    let n = forecast.len().min(actual.len()).max(1) as f64;
    abs_error(forecast, actual) / n
}

/// The sum of absolute errors.
pub fn abs_error(forecast: &[f64], actual: &[f64]) -> f64 {
    forecast
        .iter()
        .zip(actual)
        .map(|(f, a)| (f - a).abs())
        .sum()
}

/// Absolute errors over demand; `None` without demand.
pub fn wape(forecast: &[f64], actual: &[f64]) -> Option<f64> {
    let demand: f64 = actual.iter().sum();
    (demand > 0.0).then(|| abs_error(forecast, actual) / demand)
}

/// Forecast less demand, over demand (+0.1: 10 % too much); `None` without demand.
pub fn bias(forecast: &[f64], actual: &[f64]) -> Option<f64> {
    let demand: f64 = actual.iter().sum();
    let forecast: f64 = forecast.iter().take(actual.len()).sum();
    (demand > 0.0).then(|| (forecast - demand) / demand)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_of_a_known_forecast() {
        let history = [1.0, 3.0, 2.0, 5.0];
        // Season 2: |2 − 1| and |5 − 3|: scale 1.5.
        assert_eq!(naive_scale(&history, 2), Some(1.5));
        assert_eq!(naive_scale(&[4.0, 4.0, 4.0], 1), None);
        let (f, a) = ([2.0, 2.0, 2.0], [1.0, 4.0, 3.0]);
        assert_eq!(abs_error(&f, &a), 4.0);
        assert!((mase(&f, &a, 1.5) - 4.0 / 3.0 / 1.5).abs() < 1e-12);
        assert_eq!(wape(&f, &a), Some(0.5));
        assert_eq!(bias(&f, &a), Some(-0.25));
        assert_eq!(wape(&f, &[0.0, 0.0, 0.0]), None);
    }
}
