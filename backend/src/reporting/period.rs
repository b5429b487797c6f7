//! Reporting periods in the tenant's timezone: local days, their bounds in UTC, the previous
//! period of the same length for comparison, and the day an instant falls on. Pure.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Whole local days `from..=to` in `tz`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: Tz,
}

/// Why a period cannot be reported on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadPeriod {
    #[error("the period ends before it starts")]
    Backwards,
    #[error("a period may cover at most {0} days")]
    TooLong(u64),
}

/// Longest period a report covers (a daily series stays readable and cheap).
pub const MAX_DAYS: u64 = 731;

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate, tz: Tz) -> Result<Self, BadPeriod> {
        if to < from {
            return Err(BadPeriod::Backwards);
        }
        let p = Self { from, to, tz };
        if p.len() > MAX_DAYS {
            return Err(BadPeriod::TooLong(MAX_DAYS));
        }
        Ok(p)
    }

    /// Days covered.
    pub fn len(&self) -> u64 {
        u64::try_from((self.to - self.from).num_days()).unwrap_or(0) + 1
    }

    /// A period always has at least its first day.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The period of the same length that ends the day before this one starts.
    pub fn previous(&self) -> Self {
        let to = self.from - Days::new(1);
        let from = to - Days::new(self.len() - 1);
        Self {
            from,
            to,
            tz: self.tz,
        }
    }

    /// Local midnight of `day` as an instant (the first instant of the day when a DST change
    /// skips midnight).
    fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        match self.tz.from_local_datetime(&midnight) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            chrono::LocalResult::None => {
                // No local midnight that day: the gap ends an hour later at most.
                let later = midnight + chrono::Duration::hours(1);
                self.tz
                    .from_local_datetime(&later)
                    .earliest()
                    .map_or_else(|| later.and_utc(), |t| t.with_timezone(&Utc))
            }
        }
    }

    /// `[start, end)` in UTC.
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            self.start_of(self.from),
            self.start_of(self.to + Days::new(1)),
        )
    }

    /// `[start, end)` of one local day in `tz`.
    pub fn day_bounds(day: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        Self {
            from: day,
            to: day,
            tz,
        }
        .bounds()
    }

    /// Each day of the period, in order.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take(usize::try_from(self.len()).unwrap_or(0))
            .collect()
    }

    /// The local day an instant falls on.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }
}

/// Change from `before` to `now` as a fraction (0.25 = up a quarter); none from zero.
pub fn change(now: f64, before: f64) -> Option<f64> {
    (before != 0.0).then(|| (now - before) / before.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn the_previous_period_is_as_long_and_just_before() {
        let p = Period::new(day("2026-11-01"), day("2026-11-30"), chrono_tz::UTC)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.len(), 30);
        let q = p.previous();
        assert_eq!((q.from, q.to), (day("2026-10-02"), day("2026-10-31")));
        assert_eq!(p.days().len(), 30);
        assert_eq!(
            Period::new(day("2026-11-02"), day("2026-11-01"), chrono_tz::UTC),
            Err(BadPeriod::Backwards)
        );
        assert!(Period::new(day("2020-01-01"), day("2026-01-01"), chrono_tz::UTC).is_err());
    }

    #[test]
    fn days_are_the_tenants_local_days_across_a_dst_change() {
        let tz: Tz = "America/New_York".parse().unwrap_or(chrono_tz::UTC);
        // New York leaves daylight time on 2026-11-01: that day has 25 hours.
        let p =
            Period::new(day("2026-11-01"), day("2026-11-01"), tz).unwrap_or_else(|e| panic!("{e}"));
        let (start, end) = p.bounds();
        assert_eq!(start.to_rfc3339(), "2026-11-01T04:00:00+00:00");
        assert_eq!((end - start).num_hours(), 25);
        // 03:30 UTC on the 2nd is still the 1st in New York.
        let late = "2026-11-02T03:30:00Z"
            .parse::<DateTime<Utc>>()
            .unwrap_or_default();
        assert_eq!(p.day_of(late), day("2026-11-01"));
        // Spring forward: 2026-03-08 has 23 hours.
        let s =
            Period::new(day("2026-03-08"), day("2026-03-08"), tz).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = s.bounds();
        assert_eq!((b - a).num_hours(), 23);
    }

    #[test]
    fn change_is_relative_and_undefined_from_nothing() {
        assert_eq!(change(125.0, 100.0), Some(0.25));
        assert_eq!(change(50.0, 100.0), Some(-0.5));
        assert_eq!(change(5.0, 0.0), None);
    }
}
