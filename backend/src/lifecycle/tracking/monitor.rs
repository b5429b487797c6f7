//! Delivery monitoring, pure: which scans are problems, which parcels are late or silent, what
//! to do about each, and when a parcel will arrive judging by the tenant's own history.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::normalize::Scan;
use crate::lifecycle::shipping::repo::Prediction;
use crate::lifecycle::shipping::status::TrackStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    Late,
    Lost,
    AddressProblem,
    FailedAttempt,
    ReturnedToSender,
    /// The shopper received something other than what was ordered (reported by staff, or a
    /// return for the reason `wrong_item`).
    WrongItem,
    /// Something ordered was not in the parcel.
    MissingItem,
}

impl ExceptionKind {
    pub const ALL: [ExceptionKind; 7] = [
        Self::Late,
        Self::Lost,
        Self::AddressProblem,
        Self::FailedAttempt,
        Self::ReturnedToSender,
        Self::WrongItem,
        Self::MissingItem,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Late => "late",
            Self::Lost => "lost",
            Self::AddressProblem => "address_problem",
            Self::FailedAttempt => "failed_attempt",
            Self::ReturnedToSender => "returned_to_sender",
            Self::WrongItem => "wrong_item",
            Self::MissingItem => "missing_item",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ContactCarrier,
    Reship,
    Refund,
    ContactCustomer,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Self::ContactCarrier,
        Self::Reship,
        Self::Refund,
        Self::ContactCustomer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContactCarrier => "contact_carrier",
            Self::Reship => "reship",
            Self::Refund => "refund",
            Self::ContactCustomer => "contact_customer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// A problem found, with what to do and why, in words for staff and the shopper notice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub kind: ExceptionKind,
    pub action: Action,
    pub detail: String,
}

/// The problem a scan reports, if any.
pub fn from_scan(scan: &Scan) -> Option<Finding> {
    let at = scan
        .location
        .as_deref()
        .map(|l| format!(" at {l}"))
        .unwrap_or_default();
    let said = format!(
        "carrier: \"{}\"{at}, {}",
        scan.message,
        scan.at.format("%Y-%m-%d %H:%M UTC")
    );
    let detail = scan.detail.as_deref().unwrap_or("");
    if scan.status == TrackStatus::ReturnToSender
        || detail == "return_to_sender"
        || detail == "returned"
    {
        return Some(Finding {
            kind: ExceptionKind::ReturnedToSender,
            // The goods come back: the shopper either wants them again or their money.
            action: Action::ContactCustomer,
            detail: format!(
                "The parcel is being returned to the sender ({said}); ask the shopper whether to reship or refund"
            ),
        });
    }
    if detail == "address_issue" {
        return Some(Finding {
            kind: ExceptionKind::AddressProblem,
            action: Action::ContactCustomer,
            detail: format!(
                "The carrier has a problem with the address ({said}); confirm it with the shopper"
            ),
        });
    }
    if detail == "attempt_failed"
        || detail == "delivery_attempted"
        || scan.status == TrackStatus::Failure
    {
        return Some(Finding {
            kind: ExceptionKind::FailedAttempt,
            action: Action::ContactCustomer,
            detail: format!("Delivery failed ({said}); tell the shopper how to receive it"),
        });
    }
    None
}

/// What the monitor knows of a parcel in transit.
#[derive(Clone, Debug)]
pub struct InFlight {
    pub status: TrackStatus,
    pub promised_by: Option<NaiveDate>,
    /// The carrier's estimate, or ours.
    pub expected_by: Option<NaiveDate>,
    pub labelled_at: Option<DateTime<Utc>>,
    pub last_scan_at: Option<DateTime<Utc>>,
}

/// Late and lost parcels. Late: not delivered and past the promised day, or expected to arrive
/// after it. Lost: no scan for `lost_after_days` (since the label, if never scanned).
pub fn overdue(p: &InFlight, now: DateTime<Utc>, lost_after_days: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    if p.status == TrackStatus::Delivered || p.status == TrackStatus::ReturnToSender {
        return out;
    }
    let today = now.date_naive();
    if let Some(promise) = p.promised_by {
        let expected_late = p.expected_by.filter(|e| *e > promise);
        if today > promise {
            out.push(Finding {
                kind: ExceptionKind::Late,
                action: Action::ContactCarrier,
                detail: format!(
                    "Not delivered by the promised day {promise} ({} day(s) late); ask the carrier and tell the shopper",
                    (today - promise).num_days()
                ),
            });
        } else if let Some(e) = expected_late {
            out.push(Finding {
                kind: ExceptionKind::Late,
                action: Action::ContactCustomer,
                detail: format!(
                    "Expected {e}, after the promised day {promise}; tell the shopper before they ask"
                ),
            });
        }
    }
    if let Some(since) = p.last_scan_at.or(p.labelled_at) {
        let silent = (now - since).num_days();
        if silent >= lost_after_days {
            let never = p.last_scan_at.is_none();
            out.push(Finding {
                kind: ExceptionKind::Lost,
                action: if never { Action::ContactCarrier } else { Action::Reship },
                detail: if never {
                    format!("No carrier scan {silent} day(s) after the label was bought; check the parcel was handed over")
                } else {
                    format!("No carrier scan for {silent} day(s); probably lost — open a claim and reship")
                },
            });
        }
    }
    out
}

/// One delivered parcel of the tenant's history.
#[derive(Clone, Debug, PartialEq)]
pub struct Transit {
    pub service: uuid::Uuid,
    pub zone: i32,
    pub days: f64,
}

/// Below this many deliveries of a service to a zone, the carrier's estimate stands.
pub const MIN_SAMPLES: usize = 5;

/// Predicts arrival from how long this service took to this zone for the tenant: the 80th
/// percentile of past transit times (so most parcels arrive by then), counted from the first
/// scan (or the label). Nearby zones of the service are used when the zone itself is thin.
pub fn predict(
    history: &[Transit],
    service: uuid::Uuid,
    zone: i32,
    since: DateTime<Utc>,
    carrier_estimate: Option<DateTime<Utc>>,
) -> Option<Prediction> {
    let pick = |spread: i32| -> Vec<f64> {
        history
            .iter()
            .filter(|t| t.service == service && (t.zone - zone).abs() <= spread)
            .map(|t| t.days)
            .collect()
    };
    let (mut days, spread) = {
        let exact = pick(0);
        if exact.len() >= MIN_SAMPLES {
            (exact, 0)
        } else {
            (pick(1), 1)
        }
    };
    if days.len() < MIN_SAMPLES {
        return carrier_estimate.map(|at| Prediction {
            at,
            samples: 0,
            basis: format!(
                "the carrier's estimate: fewer than {MIN_SAMPLES} deliveries of this service to zone {zone} yet"
            ),
        });
    }
    days.sort_by(f64::total_cmp);
    let idx = ((days.len() as f64) * 0.8).ceil() as usize;
    let p80 = days[idx.saturating_sub(1).min(days.len() - 1)];
    let median = days[days.len() / 2];
    let at = since + Duration::minutes((p80 * 24.0 * 60.0).round() as i64);
    Some(Prediction {
        at,
        samples: days.len(),
        basis: format!(
            "{} past deliveries of this service to zone {}{}: median {:.1} days, 80% within {:.1} days",
            days.len(),
            zone,
            if spread > 0 {
                " and neighbouring zones"
            } else {
                ""
            },
            median,
            p80
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn scan(status: TrackStatus, detail: Option<&str>) -> Scan {
        Scan {
            status,
            detail: detail.map(Into::into),
            message: "x".into(),
            location: Some("Austin, TX".into()),
            at: at("2026-11-20T10:00:00Z"),
        }
    }

    #[test]
    fn problem_scans_become_findings_with_actions() {
        let f = from_scan(&scan(TrackStatus::Failure, Some("attempt_failed")));
        assert_eq!(
            f.map(|f| (f.kind, f.action)),
            Some((ExceptionKind::FailedAttempt, Action::ContactCustomer))
        );
        let f = from_scan(&scan(TrackStatus::InTransit, Some("address_issue")));
        assert_eq!(f.map(|f| f.kind), Some(ExceptionKind::AddressProblem));
        let f = from_scan(&scan(TrackStatus::ReturnToSender, None));
        assert!(f.is_some_and(
            |f| f.kind == ExceptionKind::ReturnedToSender && f.detail.contains("Austin, TX")
        ));
        assert_eq!(
            from_scan(&scan(TrackStatus::InTransit, Some("arrived_at_facility"))),
            None
        );
    }

    #[test]
    fn late_and_lost() {
        let now = at("2026-11-27T12:00:00Z");
        let base = InFlight {
            status: TrackStatus::InTransit,
            promised_by: NaiveDate::from_ymd_opt(2026, 11, 25),
            expected_by: None,
            labelled_at: Some(at("2026-11-20T09:00:00Z")),
            last_scan_at: Some(at("2026-11-26T09:00:00Z")),
        };
        let f = overdue(&base, now, 5);
        assert_eq!(f.len(), 1);
        assert!(f[0].detail.contains("2 day(s) late"));
        let silent = InFlight {
            promised_by: NaiveDate::from_ymd_opt(2026, 12, 5),
            last_scan_at: Some(at("2026-11-21T09:00:00Z")),
            ..base.clone()
        };
        let f = overdue(&silent, now, 5);
        assert_eq!(
            f.iter().map(|f| (f.kind, f.action)).collect::<Vec<_>>(),
            vec![(ExceptionKind::Lost, Action::Reship)]
        );
        let expected_late = InFlight {
            promised_by: NaiveDate::from_ymd_opt(2026, 11, 28),
            expected_by: NaiveDate::from_ymd_opt(2026, 11, 30),
            ..base.clone()
        };
        assert_eq!(
            overdue(&expected_late, now, 5)[0].action,
            Action::ContactCustomer
        );
        let delivered = InFlight {
            status: TrackStatus::Delivered,
            ..base
        };
        assert!(overdue(&delivered, now, 5).is_empty());
    }

    #[test]
    fn prediction_uses_own_history_once_there_is_enough() {
        let service = uuid::Uuid::from_u128(1);
        let since = at("2026-11-23T10:00:00Z");
        let carrier = Some(at("2026-11-25T12:00:00Z"));
        let few: Vec<Transit> = (0..3)
            .map(|_| Transit {
                service,
                zone: 4,
                days: 3.0,
            })
            .collect();
        let p = predict(&few, service, 4, since, carrier);
        assert_eq!(
            p.as_ref().map(|p| (p.at, p.samples)),
            Some((at("2026-11-25T12:00:00Z"), 0))
        );
        let many: Vec<Transit> = [2.0, 2.5, 3.0, 3.0, 3.5, 4.0, 4.0, 4.5, 5.0, 6.0]
            .iter()
            .map(|d| Transit {
                service,
                zone: 4,
                days: *d,
            })
            .collect();
        let p = predict(&many, service, 4, since, carrier);
        // 80th percentile of ten: the eighth value, 4.5 days.
        assert_eq!(p.as_ref().map(|p| p.at), Some(since + Duration::hours(108)));
        assert!(p.is_some_and(|p| p.basis.starts_with("10 past deliveries")));
        // Zone 5 borrows zones 4–6 when it has too few of its own.
        assert_eq!(
            predict(&many, service, 5, since, None).map(|p| p.samples),
            Some(10)
        );
        assert_eq!(predict(&many, uuid::Uuid::nil(), 4, since, None), None);
    }
}
