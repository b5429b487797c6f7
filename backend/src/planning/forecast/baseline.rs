//! The baselines every method is measured against: the same day a season ago, and the mean
//! of the last days.

/// Each day ahead forecast as the same day of the last full season (`m` days: 7 for a week,
/// 6 for a shop closed one day a week); `None` with less than a season of history.
pub fn seasonal_naive(y: &[f64], m: usize, h: usize) -> Option<Vec<f64>> {
    if m == 0 || y.len() < m {
        return None;
    }
    let season = &y[y.len() - m..];
    Some((0..h).map(|i| season[i % m]).collect())
}

/// The mean of the last `k` days (of all when fewer), flat; `None` for an empty series.
pub fn moving_average(y: &[f64], k: usize, h: usize) -> Option<Vec<f64>> {
    let k = k.min(y.len());
    if k == 0 {
        return None;
    }
    let mean = y[y.len() - k..].iter().sum::<f64>() / k as f64;
    Some(vec![mean; h])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_the_last_season() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        assert_eq!(
            seasonal_naive(&y, 3, 7).unwrap(),
            [6.0, 7.0, 8.0, 6.0, 7.0, 8.0, 6.0]
        );
        assert_eq!(seasonal_naive(&y, 9, 1), None);
    }

    #[test]
    fn moving_average_is_the_mean_of_the_last_days() {
        assert_eq!(moving_average(&[1.0, 2.0, 6.0], 2, 2).unwrap(), [4.0, 4.0]);
        assert_eq!(moving_average(&[3.0], 28, 1).unwrap(), [3.0]);
        assert_eq!(moving_average(&[], 7, 1), None);
    }
}
