//! Durations (received → shipped, shipped → delivered) kept as a mergeable histogram, so a
//! day's rollup stores a few dozen counts instead of every order, and the median and p90 of
//! any period are read by adding its days' histograms. Buckets are exact to the minute below
//! an hour and 2 % wide above, so a quantile is within 2 % (or a minute) of the exact one.
//! Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Seconds per minute-bucket below an hour.
const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
/// Relative width of a bucket above an hour.
const GROWTH: f64 = 1.02;

/// Counts per bucket (sparse).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    buckets: BTreeMap<u32, u64>,
}

fn bucket_of(secs: u64) -> u32 {
    if secs < HOUR {
        u32::try_from(secs / MINUTE).unwrap_or(0)
    } else {
        let above = ((secs as f64) / (HOUR as f64)).ln() / GROWTH.ln();
        60 + above.floor() as u32
    }
}

/// The bucket's lower bound and upper bound, in seconds.
fn bounds_of(bucket: u32) -> (f64, f64) {
    if bucket < 60 {
        let lo = f64::from(bucket) * MINUTE as f64;
        (lo, lo + MINUTE as f64)
    } else {
        let k = f64::from(bucket - 60);
        let lo = HOUR as f64 * GROWTH.powf(k);
        (lo, lo * GROWTH)
    }
}

impl Histogram {
    pub fn add(&mut self, secs: u64) {
        *self.buckets.entry(bucket_of(secs)).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_default() += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.buckets.values().sum()
    }

    /// The `q` quantile (0.5 = median, 0.9 = p90) in seconds, by nearest rank, at the middle
    /// of its bucket; none when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bounds_of(*b);
                return Some((lo + hi) / 2.0);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn exact(values: &mut [u64], q: f64) -> f64 {
        values.sort_unstable();
        let rank = ((q * values.len() as f64).ceil() as usize).max(1);
        values[rank - 1] as f64
    }

    #[test]
    fn quantiles_are_within_two_percent_or_a_minute() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..50 {
            // Processing times from minutes to weeks.
            let mut values: Vec<u64> = (0..rng.random_range(1..2000))
                .map(|_| rng.random_range(0..1_209_600))
                .collect();
            let mut h = Histogram::default();
            for v in &values {
                h.add(*v);
            }
            for q in [0.5, 0.9] {
                let want = exact(&mut values, q);
                let got = h.quantile(q).unwrap_or_default();
                assert!(
                    (got - want).abs() <= (want * 0.02).max(60.0),
                    "q{q}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn days_merge_into_the_period() {
        let (mut a, mut b, mut all) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        for v in [30, 600, 7200, 86_400] {
            a.add(v);
            all.add(v);
        }
        for v in [90, 172_800] {
            b.add(v);
            all.add(v);
        }
        a.merge(&b);
        assert_eq!(a, all);
        assert_eq!(a.count(), 6);
        assert_eq!(Histogram::default().quantile(0.5), None);
        // Serialised as stored in a rollup row.
        let json = serde_json::to_string(&a).unwrap_or_default();
        let back: Histogram = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, a);
    }
}
