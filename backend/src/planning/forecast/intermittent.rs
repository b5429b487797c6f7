//! Croston's method and its successors, for demand with many zero days: the size of a sale
//! and the gap between sales are smoothed apart, and the forecast is a rate (size over gap).
//! SBA (Syntetos–Boylan) takes off the bias Croston's ratio has; TSB (Teunter–Syntetos–Babai)
//! smooths the probability of a sale every day instead of the gap, so a SKU that stops
//! selling sees its forecast decay rather than stay where the last sale left it.

/// Which of the methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Croston,
    Sba,
}

/// A fitted Croston or SBA forecast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Croston {
    pub method: Method,
    pub alpha: f64,
    /// Smoothed size of a day with a sale.
    pub size: f64,
    /// Smoothed days between sales.
    pub interval: f64,
}

impl Croston {
    /// The daily rate forecast for every day ahead.
    pub fn rate(&self) -> f64 {
        let ratio = self.size / self.interval;
        match self.method {
            Method::Croston => ratio,
            Method::Sba => (1.0 - self.alpha / 2.0) * ratio,
        }
    }

    pub fn forecast(&self, h: usize) -> Vec<f64> {
        vec![self.rate(); h]
    }
}

/// Croston or SBA with weight `alpha` for both size and interval; `None` when `y` has no
/// sale at all. The first sale starts the size, the days up to it the interval.
pub fn croston(y: &[f64], alpha: f64, method: Method) -> Option<Croston> {
    let first = y.iter().position(|&v| v > 0.0)?;
    let mut size = y[first];
    let mut interval = (first + 1) as f64;
    let mut since = 0.0;
    for &v in &y[first + 1..] {
        since += 1.0;
        if v > 0.0 {
            size += alpha * (v - size);
            interval += alpha * (since - interval);
            since = 0.0;
        }
    }
    Some(Croston {
        method,
        alpha,
        size,
        interval,
    })
}

/// A fitted TSB forecast.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tsb {
    /// Weight of a sale's size.
    pub alpha: f64,
    /// Weight of whether a day had a sale.
    pub beta: f64,
    pub size: f64,
    /// Smoothed chance of a sale on a day.
    pub probability: f64,
}

impl Tsb {
    pub fn rate(&self) -> f64 {
        self.size * self.probability
    }

    pub fn forecast(&self, h: usize) -> Vec<f64> {
        vec![self.rate(); h]
    }
}

/// TSB with weights `alpha` (size) and `beta` (probability); `None` when `y` has no sale.
/// The first sale starts the size; the probability starts at the share of days with a sale.
pub fn tsb(y: &[f64], alpha: f64, beta: f64) -> Option<Tsb> {
    let first = y.iter().position(|&v| v > 0.0)?;
    let sold = y.iter().filter(|&&v| v > 0.0).count() as f64;
    let mut size = y[first];
    let mut probability = sold / y.len() as f64;
    for &v in y {
        if v > 0.0 {
            size += alpha * (v - size);
            probability += beta * (1.0 - probability);
        } else {
            probability -= beta * probability;
        }
    }
    Some(Tsb {
        alpha,
        beta,
        size,
        probability,
    })
}

/// The one-step-ahead squared errors of a rate forecast refitted each day: what the weights
/// are chosen by.
fn sse(y: &[f64], rate_after: impl Fn(&[f64]) -> Option<f64>) -> f64 {
    (1..y.len())
        .filter_map(|t| rate_after(&y[..t]).map(|f| (y[t] - f).powi(2)))
        .sum()
}

/// Croston or SBA with the weight (0.05 to 0.3, the range the literature finds useful)
/// whose one-step-ahead errors are smallest.
pub fn fit_croston(y: &[f64], method: Method) -> Option<Croston> {
    let alpha = [0.05, 0.1, 0.15, 0.2, 0.3]
        .into_iter()
        .map(|a| (a, sse(y, |p| croston(p, a, method).map(|c| c.rate()))))
        .fold(
            (0.1, f64::INFINITY),
            |b, (a, e)| if e < b.1 { (a, e) } else { b },
        )
        .0;
    croston(y, alpha, method)
}

/// TSB with the pair of weights (each 0.05 to 0.3) whose one-step-ahead errors are smallest.
pub fn fit_tsb(y: &[f64]) -> Option<Tsb> {
    let grid = [0.05, 0.1, 0.2, 0.3];
    let mut best = (0.1, 0.1, f64::INFINITY);
    for &a in &grid {
        for &b in &grid {
            let e = sse(y, |p| tsb(p, a, b).map(|t| t.rate()));
            if e < best.2 {
                best = (a, b, e);
            }
        }
    }
    tsb(y, best.0, best.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [f64; 8] = [0.0, 3.0, 0.0, 0.0, 6.0, 0.0, 0.0, 0.0];

    #[test]
    fn croston_smooths_sizes_and_gaps_apart() {
        // First sale on day 2: size 3, interval 2. Next after 3 days, of 6, weight 0.5:
        // size 3 + 0.5·3 = 4.5, interval 2 + 0.5·(3 − 2) = 2.5. Rate 4.5 / 2.5 = 1.8.
        let c = croston(&Y, 0.5, Method::Croston).unwrap();
        assert_eq!((c.size, c.interval), (4.5, 2.5));
        assert!((c.rate() - 1.8).abs() < 1e-12);
        // SBA takes off alpha/2 of it: 1.8 · 0.75.
        let s = croston(&Y, 0.5, Method::Sba).unwrap();
        assert!((s.rate() - 1.35).abs() < 1e-12);
        assert_eq!(croston(&[0.0; 5], 0.1, Method::Croston), None);
    }

    #[test]
    fn tsb_decays_while_no_sale_comes() {
        // Size 3, then 6 with weight 0.5: 4.5. Probability starts at 2/8 = 0.25 and, with
        // weight 0.5, goes 0.125, 0.5625, 0.28125, 0.140625, 0.5703125, 0.28515625,
        // 0.142578125, 0.0712890625.
        let t = tsb(&Y, 0.5, 0.5).unwrap();
        assert_eq!(t.size, 4.5);
        assert!((t.probability - 0.0712890625).abs() < 1e-12);
        assert!((t.rate() - 4.5 * 0.0712890625).abs() < 1e-12);
        // Croston's rate stays where the last sale left it.
        let c = croston(&Y, 0.5, Method::Croston).unwrap();
        assert!(t.rate() < c.rate());
    }

    #[test]
    fn fitted_weights_come_from_their_grids() {
        let y: Vec<f64> = (0..120)
            .map(|i| if i % 5 == 0 { 4.0 } else { 0.0 })
            .collect();
        let c = fit_croston(&y, Method::Sba).unwrap();
        assert!([0.05, 0.1, 0.15, 0.2, 0.3].contains(&c.alpha));
        // A sale of 4 every 5 days: size 4, gap 5 (from a first gap of 1, the fastest weight
        // gets there soonest); SBA's rate is 0.8 less its correction.
        assert_eq!(c.alpha, 0.3, "{c:?}");
        assert_eq!(c.size, 4.0);
        assert!((c.interval - 5.0).abs() < 0.01, "{c:?}");
        assert!((c.rate() - 0.8 * 0.85).abs() < 0.01, "{c:?}");
        let t = fit_tsb(&y).unwrap();
        assert!((t.rate() - 0.8).abs() < 0.25, "{t:?}");
    }
}
