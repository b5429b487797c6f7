//! Simple exponential smoothing: the level follows each day's demand by a weight `alpha`;
//! the forecast is the last level, flat. Fitted by the smallest one-step-ahead squared error.

/// A fitted simple exponential smoothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ses {
    pub alpha: f64,
    /// The level after the last day: every day's forecast.
    pub level: f64,
    /// Standard deviation of the one-step-ahead errors.
    pub sigma: f64,
}

/// The level after each day with weight `alpha`, and the one-step errors (the first day
/// starts the level and has none).
fn run(y: &[f64], alpha: f64) -> (f64, Vec<f64>) {
    let Some((&first, rest)) = y.split_first() else {
        return (0.0, Vec::new());
    };
    let mut level = first;
    let mut errors = Vec::with_capacity(rest.len());
    for &v in rest {
        errors.push(v - level);
        level += alpha * (v - level);
    }
    (level, errors)
}

/// Fits `alpha` to `y`; `None` for an empty series.
pub fn fit(y: &[f64]) -> Option<Ses> {
    if y.is_empty() {
        return None;
    }
    let alpha = super::best_weight(|a| run(y, a).1.iter().map(|e| e * e).sum());
    Some(with(y, alpha))
}

/// Smoothing with a given `alpha`.
pub fn with(y: &[f64], alpha: f64) -> Ses {
    let (level, errors) = run(y, alpha);
    let n = errors.len().max(1) as f64;
    let sigma = (errors.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    Ses {
        alpha,
        level,
        sigma,
    }
}

impl Ses {
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        vec![self.level; h]
    }

    /// The spread of the forecast `h` days ahead (the local level model's: it grows with
    /// the horizon, by `alpha`).
    pub fn sigma_at(&self, h: usize) -> f64 {
        let steps = h.saturating_sub(1) as f64;
        self.sigma * (1.0 + steps * self.alpha * self.alpha).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_follows_each_day_by_alpha() {
        // 10 → 10 + 0.5·(20 − 10) = 15 → 15 + 0.5·(0 − 15) = 7.5
        let s = with(&[10.0, 20.0, 0.0], 0.5);
        assert_eq!(s.level, 7.5);
        assert_eq!(s.forecast(3), [7.5, 7.5, 7.5]);
        // Errors 10 and −15: root mean square √162.5.
        assert!((s.sigma - 162.5f64.sqrt()).abs() < 1e-12);
        assert!((s.sigma_at(3) - s.sigma * 1.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_flat_series_wants_little_weight_and_a_step_wants_much() {
        let noisy: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 9.0 } else { 11.0 })
            .collect();
        let fitted = fit(&noisy).unwrap();
        assert!(fitted.alpha <= 0.05, "{fitted:?}");
        assert!((fitted.level - 10.0).abs() < 0.1, "{fitted:?}");
        let step: Vec<f64> = (0..100).map(|i| if i < 50 { 2.0 } else { 30.0 }).collect();
        let fitted = fit(&step).unwrap();
        assert!(fitted.alpha >= 0.95, "{fitted:?}");
        assert!((fitted.level - 30.0).abs() < 1e-6);
        assert_eq!(fit(&[]), None);
    }
}
