//! Reading platform JSON defensively: platforms send numbers as strings and strings as
//! numbers, nulls for absent values, and ids beyond 2^53 — so nothing here goes through f64.

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

/// The value at a dotted path (`"customer.email"`); array indexes are numbers (`"lines.0"`).
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for key in path.split('.') {
        cur = match cur {
            Value::Object(map) => map.get(key).unwrap_or(&Value::Null),
            Value::Array(items) => key
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
    }
    cur
}

/// Trimmed non-empty text without control characters (PostgreSQL refuses NUL); numbers and
/// booleans as written.
pub fn text(v: &Value, path: &str) -> Option<String> {
    match at(v, path) {
        Value::String(s) => Some(clean(s)).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Amounts beyond this are not money a shop charges: refused rather than risk overflow.
const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// Quantities and other counts beyond this are refused.
const MAX_INT: i64 = 1_000_000_000_000;

/// An id as text, exactly as sent (integers keep every digit).
pub fn id(v: &Value, path: &str) -> Option<String> {
    text(v, path)
}

/// An exact decimal from a string or a number; `None` when absent, not a number, or beyond
/// any real amount.
pub fn decimal(v: &Value, path: &str) -> Option<Decimal> {
    let value = match at(v, path) {
        Value::String(s) if !s.trim().is_empty() => Decimal::from_str(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .ok(),
        // A JSON number's own text, so 0.06 stays 0.06 exactly.
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        _ => None,
    }?;
    (value.abs() < Decimal::from(MAX_AMOUNT)).then_some(value)
}

/// A decimal that must be there: `Err` names the path.
pub fn required_decimal(v: &Value, path: &str) -> Result<Decimal, String> {
    decimal(v, path).ok_or_else(|| format!("{path} is missing or not a number"))
}

pub fn int(v: &Value, path: &str) -> Option<i64> {
    match at(v, path) {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| n.unsigned_abs() <= MAX_INT.unsigned_abs())
}

pub fn boolean(v: &Value, path: &str) -> Option<bool> {
    match at(v, path) {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

pub fn array<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    at(v, path).as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// RFC 3339 with an offset, RFC 2822, or a naive time taken as UTC (WooCommerce's `_gmt`).
pub fn time(v: &Value, path: &str) -> Option<DateTime<Utc>> {
    let raw = text(v, path)?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(&raw) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&raw, format) {
            return Some(t.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_exactly_whatever_their_json_type() {
        let v = json!({ "id": 820982911946154508u64, "p": "12.50", "r": 0.06, "n": null, "t": "  ",
                        "a": [{ "x": "1" }], "d1": "2021-12-31T19:00:00-05:00",
                        "d2": "Tue, 05 Mar 2019 21:40:11 +0000", "d3": "2017-03-22T16:28:02" });
        assert_eq!(id(&v, "id").as_deref(), Some("820982911946154508"));
        assert_eq!(decimal(&v, "p").unwrap().to_string(), "12.50");
        assert_eq!(decimal(&v, "r").unwrap().to_string(), "0.06");
        assert_eq!(text(&v, "n"), None);
        assert_eq!(text(&v, "t"), None);
        assert_eq!(text(&v, "a.0.x").as_deref(), Some("1"));
        assert_eq!(
            time(&v, "d1").unwrap().to_rfc3339(),
            "2022-01-01T00:00:00+00:00"
        );
        assert_eq!(
            time(&v, "d2").unwrap().to_rfc3339(),
            "2019-03-05T21:40:11+00:00"
        );
        assert_eq!(
            time(&v, "d3").unwrap().to_rfc3339(),
            "2017-03-22T16:28:02+00:00"
        );
        assert!(
            required_decimal(&v, "missing")
                .unwrap_err()
                .contains("missing")
        );
    }
}
