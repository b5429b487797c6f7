//! Tracking events as EasyPost, Shippo, AfterShip and Orderflow's own format write them,
//! mapped to one vocabulary. Pure: a parsed body in, the tracker's status and its scans out.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lifecycle::shipping::status::{Source, TrackStatus};

/// One scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scan {
    pub status: TrackStatus,
    /// A finer reason in our words: `attempt_failed`, `address_issue`, `delayed`, … or the
    /// source's own code.
    pub detail: Option<String>,
    pub message: String,
    pub location: Option<String>,
    pub at: DateTime<Utc>,
}

/// What one delivery says about one parcel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingUpdate {
    pub tracking_number: String,
    pub carrier: Option<String>,
    /// The tracker's status now, as the source sees it.
    pub status: TrackStatus,
    pub detail: Option<String>,
    pub estimated_delivery: Option<NaiveDate>,
    /// Every scan the body carries (sources resend the whole history), oldest first.
    pub scans: Vec<Scan>,
    /// The source's id of this delivery, when it has one.
    pub event_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable(pub String);

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A time as the sources write it: RFC 3339, or without an offset (taken as UTC).
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

fn date_of(raw: Option<&str>) -> Option<NaiveDate> {
    raw.and_then(|r| {
        parse_time(r)
            .map(|t| t.date_naive())
            .or_else(|| NaiveDate::parse_from_str(r.get(..10)?, "%Y-%m-%d").ok())
    })
}

fn place(parts: &[Option<&str>]) -> Option<String> {
    let joined = parts
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    (!joined.is_empty()).then_some(joined)
}

/// Details that mean something to the monitor, whatever words a source used.
fn detail_from_words(words: &str) -> Option<&'static str> {
    let w = words.to_ascii_lowercase();
    if w.contains("attempt") {
        Some("attempt_failed")
    } else if w.contains("address") {
        Some("address_issue")
    } else if w.contains("return") {
        Some("returned")
    } else if w.contains("delay") || w.contains("weather") {
        Some("delayed")
    } else if w.contains("damage") {
        Some("damaged")
    } else if w.contains("lost") {
        Some("lost")
    } else {
        None
    }
}

pub fn parse(source: Source, body: &Value) -> Result<TrackingUpdate, Unreadable> {
    let mut update = match source {
        Source::Easypost => easypost(body),
        Source::Shippo => shippo(body),
        Source::Aftership => aftership(body),
        Source::Orderflow => orderflow(body),
    }?;
    update.scans.sort_by_key(|s| s.at);
    Ok(update)
}

fn easypost_status(raw: &str) -> TrackStatus {
    match raw {
        "pre_transit" => TrackStatus::PreTransit,
        "in_transit" => TrackStatus::InTransit,
        "out_for_delivery" => TrackStatus::OutForDelivery,
        "delivered" => TrackStatus::Delivered,
        "available_for_pickup" => TrackStatus::AvailableForPickup,
        "return_to_sender" => TrackStatus::ReturnToSender,
        "failure" | "error" | "cancelled" => TrackStatus::Failure,
        _ => TrackStatus::Unknown,
    }
}

fn easypost(body: &Value) -> Result<TrackingUpdate, Unreadable> {
    // A webhook Event carries the Tracker in `result`; a Tracker may also be posted bare.
    let tracker = body.get("result").unwrap_or(body);
    if text(tracker, "object").is_some_and(|o| o != "Tracker") {
        return Err(Unreadable(format!(
            "an EasyPost {} event carries no tracker",
            text(body, "description").unwrap_or("unknown")
        )));
    }
    let number = text(tracker, "tracking_code")
        .ok_or_else(|| Unreadable("result.tracking_code is missing".into()))?;
    let status = easypost_status(text(tracker, "status").unwrap_or("unknown"));
    let scans = tracker
        .get("tracking_details")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|d| {
                    let loc = d.get("tracking_location").unwrap_or(&Value::Null);
                    let message = text(d, "message").or(text(d, "description")).unwrap_or("");
                    Some(Scan {
                        status: easypost_status(text(d, "status").unwrap_or("unknown")),
                        detail: text(d, "status_detail")
                            .map(str::to_owned)
                            .filter(|s| s != "unknown"),
                        message: message.to_owned(),
                        location: place(&[
                            text(loc, "city"),
                            text(loc, "state"),
                            text(loc, "country"),
                        ]),
                        at: parse_time(text(d, "datetime")?)?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(TrackingUpdate {
        tracking_number: number.to_owned(),
        carrier: text(tracker, "carrier").map(str::to_owned),
        status,
        detail: text(tracker, "status_detail").map(str::to_owned),
        estimated_delivery: date_of(text(tracker, "est_delivery_date")),
        scans,
        event_id: text(body, "id")
            .filter(|_| body.get("result").is_some())
            .map(str::to_owned),
    })
}

fn shippo_status(status: &str, substatus: Option<&str>) -> TrackStatus {
    match (status, substatus) {
        (_, Some("out_for_delivery")) => TrackStatus::OutForDelivery,
        (_, Some("pickup_available")) => TrackStatus::AvailableForPickup,
        (_, Some("return_to_sender")) => TrackStatus::ReturnToSender,
        ("PRE_TRANSIT", _) => TrackStatus::PreTransit,
        ("TRANSIT", _) => TrackStatus::InTransit,
        ("DELIVERED", _) => TrackStatus::Delivered,
        ("RETURNED", _) => TrackStatus::ReturnToSender,
        ("FAILURE", _) => TrackStatus::Failure,
        _ => TrackStatus::Unknown,
    }
}

fn shippo_scan(s: &Value) -> Option<Scan> {
    let sub = s.get("substatus").unwrap_or(&Value::Null);
    let code = text(sub, "code");
    let message = text(s, "status_details").unwrap_or("").to_owned();
    let loc = s.get("location").unwrap_or(&Value::Null);
    Some(Scan {
        status: shippo_status(text(s, "status").unwrap_or("UNKNOWN"), code),
        detail: code
            .map(str::to_owned)
            .or_else(|| detail_from_words(&message).map(str::to_owned)),
        message,
        location: place(&[text(loc, "city"), text(loc, "state"), text(loc, "country")]),
        at: parse_time(text(s, "status_date")?)?,
    })
}

fn shippo(body: &Value) -> Result<TrackingUpdate, Unreadable> {
    // `{"event": "track_updated", "data": <Track>}`; a Track may also be posted bare.
    if let Some(event) = text(body, "event")
        && event != "track_updated"
    {
        return Err(Unreadable(format!(
            "a Shippo {event} event carries no track"
        )));
    }
    let track = body.get("data").unwrap_or(body);
    let number = text(track, "tracking_number")
        .ok_or_else(|| Unreadable("data.tracking_number is missing".into()))?;
    let current = track.get("tracking_status").unwrap_or(&Value::Null);
    let now = shippo_scan(current);
    let mut scans: Vec<Scan> = track
        .get("tracking_history")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(shippo_scan).collect())
        .unwrap_or_default();
    if let Some(now) = &now
        && !scans.contains(now)
    {
        scans.push(now.clone());
    }
    let status = now.as_ref().map_or(TrackStatus::Unknown, |s| s.status);
    Ok(TrackingUpdate {
        tracking_number: number.to_owned(),
        carrier: text(track, "carrier").map(str::to_owned),
        status,
        detail: now.and_then(|s| s.detail),
        estimated_delivery: date_of(text(track, "eta")),
        scans,
        event_id: None,
    })
}

fn aftership_status(
    tag: &str,
    subtag: Option<&str>,
    message: &str,
) -> (TrackStatus, Option<String>) {
    let detail = subtag.map(str::to_owned);
    match tag {
        "Pending" | "InfoReceived" => (TrackStatus::PreTransit, detail),
        "InTransit" => (TrackStatus::InTransit, detail),
        "OutForDelivery" => (TrackStatus::OutForDelivery, detail),
        "AvailableForPickup" => (TrackStatus::AvailableForPickup, detail),
        "Delivered" => (TrackStatus::Delivered, detail),
        "AttemptFail" => (TrackStatus::Failure, Some("attempt_failed".into())),
        "Exception" if detail_from_words(message) == Some("returned") => {
            (TrackStatus::ReturnToSender, detail)
        }
        "Exception" => (
            TrackStatus::Failure,
            detail_from_words(message).map(str::to_owned).or(detail),
        ),
        _ => (TrackStatus::Unknown, detail),
    }
}

fn aftership(body: &Value) -> Result<TrackingUpdate, Unreadable> {
    // The webhook's `msg` (or a GET /trackings response's `data.tracking`) is the tracking.
    let tracking = body
        .get("msg")
        .or_else(|| body.get("data").and_then(|d| d.get("tracking")))
        .unwrap_or(body);
    let number = text(tracking, "tracking_number")
        .ok_or_else(|| Unreadable("msg.tracking_number is missing".into()))?;
    let scans = tracking
        .get("checkpoints")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    let message = text(c, "message").unwrap_or("").to_owned();
                    let (status, detail) =
                        aftership_status(text(c, "tag").unwrap_or(""), text(c, "subtag"), &message);
                    Some(Scan {
                        status,
                        detail,
                        location: text(c, "location")
                            .map(str::to_owned)
                            .or_else(|| place(&[text(c, "city"), text(c, "country_iso3")])),
                        message,
                        at: parse_time(text(c, "checkpoint_time")?)?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let (status, detail) = aftership_status(
        text(tracking, "tag").unwrap_or(""),
        text(tracking, "subtag"),
        text(tracking, "subtag_message").unwrap_or(""),
    );
    let expected = tracking
        .get("latest_estimated_delivery")
        .and_then(|e| text(e, "datetime"))
        .or(text(tracking, "expected_delivery"));
    Ok(TrackingUpdate {
        tracking_number: number.to_owned(),
        carrier: text(tracking, "slug").map(str::to_owned),
        status,
        detail,
        estimated_delivery: date_of(expected),
        scans,
        event_id: text(body, "event_id").map(str::to_owned),
    })
}

/// Orderflow's own format, for carriers and tools without one of the above:
/// `{"eventId", "trackingNumber", "status", "detail", "message", "location", "occurredAt",
/// "estimatedDelivery"}` with `status` in the normalised vocabulary.
fn orderflow(body: &Value) -> Result<TrackingUpdate, Unreadable> {
    let number = text(body, "trackingNumber")
        .ok_or_else(|| Unreadable("trackingNumber is missing".into()))?;
    let raw = text(body, "status").ok_or_else(|| Unreadable("status is missing".into()))?;
    let status = TrackStatus::parse(raw).ok_or_else(|| {
        Unreadable(format!(
            "status {raw:?} is not one of {}",
            TrackStatus::ALL.map(TrackStatus::as_str).join(", ")
        ))
    })?;
    let at = match text(body, "occurredAt") {
        Some(raw) => parse_time(raw)
            .ok_or_else(|| Unreadable(format!("occurredAt {raw:?} is not an RFC 3339 time")))?,
        None => return Err(Unreadable("occurredAt is missing".into())),
    };
    let detail = text(body, "detail").map(str::to_owned);
    Ok(TrackingUpdate {
        tracking_number: number.to_owned(),
        carrier: text(body, "carrier").map(str::to_owned),
        status,
        detail: detail.clone(),
        estimated_delivery: date_of(text(body, "estimatedDelivery")),
        scans: vec![Scan {
            status,
            detail,
            message: text(body, "message").unwrap_or(status.as_str()).to_owned(),
            location: text(body, "location").map(str::to_owned),
            at,
        }],
        event_id: text(body, "eventId").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Value {
        let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&full)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn easypost_events_map_status_and_scans() {
        let u = parse(
            Source::Easypost,
            &fixture("easypost/event_tracker_updated_in_transit.json"),
        );
        let u = u.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(u.tracking_number, "1");
        assert_eq!(u.status, TrackStatus::InTransit);
        assert_eq!(u.detail.as_deref(), Some("arrived_at_facility"));
        assert_eq!(u.scans.len(), 7);
        assert_eq!(u.scans[0].status, TrackStatus::PreTransit);
        assert_eq!(u.event_id.as_deref(), Some("evt_1"));
        assert_eq!(u.estimated_delivery, NaiveDate::from_ymd_opt(2024, 8, 5));
        let d = parse(
            Source::Easypost,
            &fixture("easypost/event_tracker_updated_delivered.json"),
        );
        let d = d.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (d.tracking_number.as_str(), d.status),
            ("EZ4000000004", TrackStatus::Delivered)
        );
        assert_eq!(
            d.scans.last().map(|s| s.status),
            Some(TrackStatus::Delivered)
        );
        // A bare tracker (GET /trackers/:id) reads the same way.
        let t = parse(Source::Easypost, &fixture("easypost/tracker_retrieve.json"));
        assert_eq!(t.map(|t| t.status), Ok(TrackStatus::PreTransit));
    }

    #[test]
    fn shippo_track_maps_unknown_transit_delivered() {
        let track = fixture("shippo/track_get_usps_9205590164917337534322.json");
        let body = serde_json::json!({ "event": "track_updated", "test": false, "data": track });
        let u = parse(Source::Shippo, &body).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(u.tracking_number, "9205590164917337534322");
        assert_eq!(u.status, TrackStatus::Delivered);
        assert_eq!(
            u.scans.first().map(|s| s.status),
            Some(TrackStatus::Unknown)
        );
        assert!(u.scans.iter().any(|s| s.status == TrackStatus::InTransit));
        assert!(u.scans.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(u.estimated_delivery, NaiveDate::from_ymd_opt(2016, 12, 8));
        let other = serde_json::json!({ "event": "transaction_created", "data": {} });
        assert!(parse(Source::Shippo, &other).is_err());
    }

    #[test]
    fn aftership_tracking_maps_tags_and_mixed_time_zones() {
        let tracking =
            fixture("aftership/tracking_get_fedex_cn_jp_delivered.json")["data"]["tracking"]
                .clone();
        let body = serde_json::json!({
            "event": "tracking_update", "event_id": "6e4b1d2a", "is_tracking_first_tag": false,
            "msg": tracking, "ts": 1_532_500_000
        });
        let u = parse(Source::Aftership, &body).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(u.tracking_number, "111111111111");
        assert_eq!(u.status, TrackStatus::Delivered);
        assert_eq!(u.carrier.as_deref(), Some("fedex"));
        assert_eq!(
            u.scans.first().map(|s| s.status),
            Some(TrackStatus::PreTransit)
        );
        // 2018-07-23T01:21:39-05:00 is 06:21:39 UTC, before the 16:58+08:00 pick-up (08:58 UTC).
        assert_eq!(u.scans[0].at.to_rfc3339(), "2018-07-23T06:21:39+00:00");
        assert_eq!(u.event_id.as_deref(), Some("6e4b1d2a"));
    }

    #[test]
    fn orderflow_format_names_what_is_wrong() {
        let ok = serde_json::json!({
            "eventId": "e1", "trackingNumber": "OF0000000001235", "status": "out_for_delivery",
            "occurredAt": "2026-11-27T08:00:00Z", "location": "Austin, TX"
        });
        let u = parse(Source::Orderflow, &ok).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(u.status, TrackStatus::OutForDelivery);
        let bad =
            serde_json::json!({ "trackingNumber": "x", "status": "lost", "occurredAt": "now" });
        let err = parse(Source::Orderflow, &bad)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            err.starts_with("status \"lost\" is not one of pre_transit"),
            "{err}"
        );
    }

    #[test]
    fn words_become_details_the_monitor_understands() {
        let (s, d) = aftership_status("AttemptFail", Some("AttemptFail_001"), "");
        assert_eq!(
            (s, d.as_deref()),
            (TrackStatus::Failure, Some("attempt_failed"))
        );
        let (s, _) = aftership_status("Exception", None, "Returned to shipper");
        assert_eq!(s, TrackStatus::ReturnToSender);
        assert_eq!(
            shippo_status("TRANSIT", Some("out_for_delivery")),
            TrackStatus::OutForDelivery
        );
        assert!(TrackStatus::Delivered.progress() > TrackStatus::OutForDelivery.progress());
    }
}
