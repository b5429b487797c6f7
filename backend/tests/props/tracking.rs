//! Carrier tracking bodies (EasyPost, Shippo, AfterShip, Orderflow's own) become one update or
//! one reason, for any JSON: a forged or broken body can cost an error, never a worker.

use chrono::{DateTime, SecondsFormat, Utc};
use orderflow::lifecycle::shipping::status::{Source, TrackStatus};
use orderflow::lifecycle::tracking::normalize::{self, TrackingUpdate, Unreadable};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::strategies::{arb_json, edge_text, mutated};
use crate::{config, fixture};

const SOURCES: [Source; 4] = [
    Source::Easypost,
    Source::Shippo,
    Source::Aftership,
    Source::Orderflow,
];

fn check(result: Result<TrackingUpdate, Unreadable>) -> Result<(), TestCaseError> {
    match result {
        Ok(u) => {
            prop_assert!(!u.tracking_number.is_empty());
            prop_assert_eq!(u.tracking_number.trim(), u.tracking_number.as_str());
            prop_assert!(
                u.scans.windows(2).all(|w| w[0].at <= w[1].at),
                "scans oldest first"
            );
        }
        Err(Unreadable(why)) => prop_assert!(!why.trim().is_empty(), "an error says why"),
    }
    Ok(())
}

/// Every saved body, wrapped the way its webhook sends it, with the source it is in.
fn bodies() -> Vec<(Source, Value)> {
    let shippo = fixture("shippo/track_get_usps_9205590164917337534322.json");
    let aftership = fixture("aftership/tracking_get_fedex_cn_jp_delivered.json");
    vec![
        (
            Source::Easypost,
            fixture("easypost/event_tracker_updated_in_transit.json"),
        ),
        (
            Source::Easypost,
            fixture("easypost/event_tracker_updated_delivered.json"),
        ),
        (Source::Easypost, fixture("easypost/tracker_retrieve.json")),
        (
            Source::Shippo,
            json!({ "event": "track_updated", "test": false, "data": shippo }),
        ),
        (
            Source::Aftership,
            json!({ "event": "tracking_update", "event_id": "e1", "msg": aftership["data"]["tracking"] }),
        ),
        (Source::Aftership, aftership),
    ]
}

fn mutated_body() -> impl Strategy<Value = (Source, Value)> {
    let all = bodies();
    (0..all.len()).prop_flat_map(move |i| {
        let (source, body) = all[i].clone();
        mutated(body, 4).prop_map(move |v| (source, v))
    })
}

/// Times from year 1 to 9999, to the nanosecond.
fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| DateTime::from_timestamp(secs, nanos).unwrap())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_json_is_an_update_or_a_reason_for_every_source(v in arb_json()) {
        for source in SOURCES {
            check(normalize::parse(source, &v))?;
        }
    }

    #[test]
    fn any_text_is_a_time_or_nothing(raw in edge_text()) {
        let _ = normalize::parse_time(&raw);
    }

    #[test]
    fn times_read_back_as_written(t in time(), form in 0..3) {
        let (raw, expected) = match form {
            0 => (t.to_rfc3339_opts(SecondsFormat::AutoSi, true), t),
            // Without an offset: taken as UTC.
            1 => (t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string(), t),
            _ => {
                let day = t.date_naive();
                (day.format("%Y-%m-%d").to_string(), day.and_hms_opt(0, 0, 0).unwrap().and_utc())
            }
        };
        prop_assert!(normalize::parse_time(&raw) == Some(expected), "{raw} is not {expected}");
    }

    #[test]
    fn an_orderflow_event_keeps_its_status_time_and_number(
        status in prop::sample::select(TrackStatus::ALL.to_vec()),
        at in time(),
        number in "[A-Z0-9]{1,30}",
        padding in "[ \t]{0,3}",
        estimated in prop::option::of(time()),
    ) {
        let mut body = json!({
            "trackingNumber": format!("{padding}{number}{padding}"),
            "status": status.as_str(),
            "occurredAt": at.to_rfc3339(),
        });
        if let Some(e) = estimated {
            body["estimatedDelivery"] = json!(e.format("%Y-%m-%d").to_string());
        }
        let u = normalize::parse(Source::Orderflow, &body).unwrap();
        prop_assert_eq!(&u.tracking_number, &number);
        prop_assert_eq!(u.status, status);
        prop_assert_eq!(u.scans.len(), 1);
        prop_assert_eq!(u.scans[0].at, at);
        prop_assert_eq!(u.estimated_delivery, estimated.map(|e| e.date_naive()));
    }

    #[test]
    fn an_orderflow_event_with_another_status_is_refused(status in "\\PC{1,20}") {
        prop_assume!(TrackStatus::parse(status.trim()).is_none());
        let body = json!({ "trackingNumber": "1Z", "status": status, "occurredAt": "2026-01-01T00:00:00Z" });
        prop_assert!(normalize::parse(Source::Orderflow, &body).is_err());
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn saved_bodies_with_fields_replaced_read_or_explain((source, v) in mutated_body()) {
        check(normalize::parse(source, &v))?;
        // A body sent to the wrong endpoint is no worse.
        for other in SOURCES {
            check(normalize::parse(other, &v))?;
        }
    }
}

/// The mutations start from bodies that read.
#[test]
fn every_saved_body_reads_before_it_is_mutated() {
    for (source, body) in bodies() {
        let u = normalize::parse(source, &body).unwrap_or_else(|e| panic!("{source:?}: {e:?}"));
        assert!(!u.scans.is_empty(), "{source:?}");
    }
}
