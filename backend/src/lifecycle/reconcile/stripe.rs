//! Reading a Stripe report into lines. Pure. Two forms:
//! - CSV: the payout-reconciliation and balance reports (`balance_transaction_id`, `gross`,
//!   `fee`, `net`, `currency`, `reporting_category`, `source_id`, `charge_id`,
//!   `payment_intent_id`, `automatic_payout_id`, …, amounts in major units) and the dashboard's
//!   balance-history export (`id`, `Type`, `Source`, `Amount`, `Fee`, `Net`, …);
//! - JSON: API objects as Stripe returns them (a `list`, an array or one object):
//!   balance transactions (amounts in minor units), payouts, and charges (which tell which
//!   payment intent a charge belongs to).

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::domain::money::{Currency, to_units};

/// One balance transaction (or payout) of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based line of the file (row for CSV, object for JSON).
    pub line_no: usize,
    pub transaction_id: String,
    /// charge, refund, dispute, payout, fee, adjustment, …
    pub category: String,
    pub source_id: Option<String>,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    /// An order id or name the merchant put in the payment's metadata.
    pub order_ref: Option<String>,
    pub description: Option<String>,
    /// Upper case ISO code.
    pub currency: String,
    /// Units (scale 4), signed as Stripe signs them (money out is negative).
    pub gross: i64,
    pub fee: i64,
    pub net: i64,
    pub occurred_at: Option<DateTime<Utc>>,
    pub payout_id: Option<String>,
    /// The row as read, for the record.
    pub raw: Value,
}

/// What the file says beyond its lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub lines: Vec<Line>,
    /// charge id → payment intent id, from charge objects.
    pub intents: HashMap<String, String>,
    /// The report lists every transaction of each payout it names (Stripe's itemized
    /// payout-reconciliation report), so a payout's amount is the sum of its lines.
    pub whole_payouts: bool,
}

/// Why a file cannot be read: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct Unreadable {
    pub at: String,
    pub message: String,
}

fn unreadable(at: impl Into<String>, message: impl Into<String>) -> Unreadable {
    Unreadable {
        at: at.into(),
        message: message.into(),
    }
}

fn units(raw: Decimal) -> Option<i64> {
    to_units(raw).ok()
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Column names accepted for each field, lower case.
const ID: &[&str] = &["balance_transaction_id", "id"];
const CATEGORY: &[&str] = &["reporting_category", "type"];
const SOURCE: &[&str] = &["source_id", "source"];
const GROSS: &[&str] = &["gross", "amount"];
const FEE: &[&str] = &["fee"];
const NET: &[&str] = &["net"];
const CURRENCY: &[&str] = &["currency"];
const CREATED: &[&str] = &["created_utc", "created (utc)", "created"];
const DESCRIPTION: &[&str] = &["description"];
const PAYOUT: &[&str] = &["automatic_payout_id", "payout_id", "transfer"];
const CHARGE: &[&str] = &["charge_id"];
const INTENT: &[&str] = &["payment_intent_id"];
const ORDER: &[&str] = &[
    "payment_metadata[order_id]",
    "charge_metadata[order_id]",
    "order_id",
    "payment_metadata[order]",
];

fn time_of(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(raw, f) {
            return Some(t.and_utc());
        }
    }
    raw.parse::<i64>()
        .ok()
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
}

/// Reads a CSV report.
pub fn read_csv(text: &str) -> Result<Report, Unreadable> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| unreadable("line 1", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h == n))
    };
    let need = |names: &[&str]| {
        col(names)
            .ok_or_else(|| unreadable("line 1", format!("the report has no {} column", names[0])))
    };
    let (id, category, gross, currency) =
        (need(ID)?, need(CATEGORY)?, need(GROSS)?, need(CURRENCY)?);
    let (fee, net) = (col(FEE), col(NET));
    let (source, created, description, payout, charge, intent, order) = (
        col(SOURCE),
        col(CREATED),
        col(DESCRIPTION),
        col(PAYOUT),
        col(CHARGE),
        col(INTENT),
        col(ORDER),
    );
    let whole_payouts = headers.iter().any(|h| h == "automatic_payout_id");
    let mut lines = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(i + 2, |p| p.line() as usize);
            unreadable(format!("line {line}"), e.to_string())
        })?;
        // The file's own line (quoted cells may span several).
        let line_no = record.position().map_or(i + 2, |p| p.line() as usize);
        let at = format!("line {line_no}");
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |c: Option<usize>| non_empty(c.and_then(|c| record.get(c)));
        let money = |c: Option<usize>, name: &str| -> Result<Option<i64>, Unreadable> {
            match get(c) {
                None => Ok(None),
                Some(v) => v
                    .replace(',', "")
                    .parse::<Decimal>()
                    .ok()
                    .and_then(units)
                    .map(Some)
                    .ok_or_else(|| unreadable(&at, format!("{name} \"{v}\" is not an amount"))),
            }
        };
        let transaction_id =
            get(Some(id)).ok_or_else(|| unreadable(&at, "the balance transaction id is empty"))?;
        let gross_units =
            money(Some(gross), "gross")?.ok_or_else(|| unreadable(&at, "gross is empty"))?;
        let fee_units = money(fee, "fee")?.unwrap_or(0);
        let net_units = match money(net, "net")? {
            Some(net) => net,
            None => gross_units
                .checked_sub(fee_units)
                .ok_or_else(|| unreadable(&at, "gross less fee is out of range"))?,
        };
        let cur = get(Some(currency)).unwrap_or_default();
        let cur = Currency::parse(&cur)
            .map_err(|m| unreadable(&at, format!("currency \"{cur}\" {m}")))?
            .code()
            .to_owned();
        let raw: serde_json::Map<String, Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_owned())))
            .collect();
        lines.push(Line {
            line_no,
            transaction_id,
            category: get(Some(category)).unwrap_or_default().to_ascii_lowercase(),
            source_id: get(source),
            charge_id: get(charge),
            payment_intent_id: get(intent),
            order_ref: get(order),
            description: get(description),
            currency: cur,
            gross: gross_units,
            fee: fee_units,
            net: net_units,
            occurred_at: get(created).and_then(|t| time_of(&t)),
            payout_id: get(payout),
            raw: Value::Object(raw),
        });
    }
    Ok(Report {
        lines,
        intents: HashMap::new(),
        whole_payouts,
    })
}

/// Decimals of a currency in Stripe's API amounts (see [`refund::stripe::decimals`]).
fn stripe_decimals(currency: &Currency) -> u32 {
    crate::lifecycle::refund::stripe::decimals(currency.code())
}

/// Minor units of `currency` (integer) or a decimal string of major units, as units.
fn amount_of(v: &Value, currency: &Currency) -> Option<i64> {
    match v {
        Value::Number(n) => {
            let minor = Decimal::from(n.as_i64()?);
            units(minor / Decimal::from(10i64.pow(stripe_decimals(currency))))
        }
        Value::String(s) => s.trim().parse::<Decimal>().ok().and_then(units),
        _ => None,
    }
}

fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => non_empty(Some(s)),
        Value::Object(_) => v.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Reads Stripe API objects.
pub fn read_json(text: &str) -> Result<Report, Unreadable> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| unreadable(format!("line {}", e.line()), format!("not JSON: {e}")))?;
    let objects: Vec<Value> = match v {
        Value::Array(a) => a,
        Value::Object(ref o) if o.get("object").and_then(Value::as_str) == Some("list") => o
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        other => vec![other],
    };
    let mut report = Report::default();
    for (i, o) in objects.iter().enumerate() {
        let line_no = i + 1;
        let at = format!("object {line_no}");
        let kind = o.get("object").and_then(Value::as_str).unwrap_or_default();
        let currency = o
            .get("currency")
            .and_then(Value::as_str)
            .map(Currency::parse)
            .transpose()
            .map_err(|m| unreadable(&at, format!("currency {m}")))?;
        let text = |k: &str| non_empty(o.get(k).and_then(Value::as_str));
        let time = |k: &str| {
            o.get(k)
                .and_then(Value::as_i64)
                .and_then(|s| Utc.timestamp_opt(s, 0).single())
        };
        match kind {
            "charge" => {
                if let (Some(charge), Some(intent)) =
                    (text("id"), o.get("payment_intent").and_then(id_of))
                {
                    report.intents.insert(charge, intent);
                }
            }
            "balance_transaction" | "payout" => {
                let currency =
                    currency.ok_or_else(|| unreadable(&at, "the object has no currency"))?;
                let amount = o
                    .get("amount")
                    .and_then(|a| amount_of(a, &currency))
                    .ok_or_else(|| unreadable(&at, "amount is missing or not a number"))?;
                let id = text("id").ok_or_else(|| unreadable(&at, "the object has no id"))?;
                let paid_out = amount
                    .checked_neg()
                    .ok_or_else(|| unreadable(&at, "amount is out of range"))?;
                let line = if kind == "payout" {
                    // Money leaving the balance for the bank, unless it never got there.
                    let failed = matches!(text("status").as_deref(), Some("failed" | "canceled"));
                    Line {
                        line_no,
                        transaction_id: id.clone(),
                        category: if failed { "payout_failure" } else { "payout" }.into(),
                        source_id: Some(id.clone()),
                        charge_id: None,
                        payment_intent_id: None,
                        order_ref: None,
                        description: text("description"),
                        currency: currency.code().to_owned(),
                        gross: paid_out,
                        fee: 0,
                        net: paid_out,
                        occurred_at: time("arrival_date").or_else(|| time("created")),
                        payout_id: Some(id),
                        raw: o.clone(),
                    }
                } else {
                    let fee = o
                        .get("fee")
                        .and_then(|a| amount_of(a, &currency))
                        .unwrap_or(0);
                    let net = match o.get("net").and_then(|a| amount_of(a, &currency)) {
                        Some(net) => net,
                        None => amount
                            .checked_sub(fee)
                            .ok_or_else(|| unreadable(&at, "amount less fee is out of range"))?,
                    };
                    Line {
                        line_no,
                        transaction_id: id,
                        category: text("reporting_category")
                            .or_else(|| text("type"))
                            .unwrap_or_default()
                            .to_ascii_lowercase(),
                        source_id: o.get("source").and_then(id_of),
                        charge_id: None,
                        payment_intent_id: None,
                        order_ref: None,
                        description: text("description"),
                        currency: currency.code().to_owned(),
                        gross: amount,
                        fee,
                        net,
                        occurred_at: time("created"),
                        payout_id: None,
                        raw: o.clone(),
                    }
                };
                report.lines.push(line);
            }
            "dispute" => {
                // A dispute carries its balance transactions.
                for (j, t) in o
                    .get("balance_transactions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    let mut inner = read_json(&t.to_string()).map_err(|e| {
                        unreadable(format!("{at}, transaction {}", j + 1), e.message)
                    })?;
                    for mut l in inner.lines.drain(..) {
                        l.line_no = line_no;
                        l.charge_id = o.get("charge").and_then(id_of);
                        l.payment_intent_id = o.get("payment_intent").and_then(id_of);
                        report.lines.push(l);
                    }
                }
            }
            other => {
                return Err(unreadable(
                    at,
                    format!(
                        "a {} object cannot be reconciled: give balance transactions, payouts, disputes or charges",
                        if other.is_empty() { "typeless" } else { other }
                    ),
                ));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payout_reconciliation_csv_reads_with_major_units() {
        let csv = "balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,source_id,description,automatic_payout_id,charge_id,payment_intent_id,payment_metadata[order_id]\n\
                   txn_1,2026-11-20 10:00:00,2026-11-22 00:00:00,usd,20.00,0.88,19.12,charge,ch_1,Order #1001,po_1,ch_1,pi_1,#1001\n\
                   txn_2,2026-11-21 10:00:00,2026-11-22 00:00:00,usd,-5.00,0.00,-5.00,refund,re_1,REFUND FOR CHARGE,po_1,ch_1,pi_1,\n";
        let r = read_csv(csv).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.lines.len(), 2);
        let l = &r.lines[0];
        assert_eq!((l.gross, l.fee, l.net), (200_000, 8_800, 191_200));
        assert_eq!(l.currency, "USD");
        assert_eq!(l.payment_intent_id.as_deref(), Some("pi_1"));
        assert_eq!(l.order_ref.as_deref(), Some("#1001"));
        assert_eq!(l.payout_id.as_deref(), Some("po_1"));
        assert_eq!(r.lines[1].gross, -50_000);
        assert_eq!(r.lines[1].line_no, 3);
    }

    #[test]
    fn a_bad_cell_names_its_line_and_column() {
        let csv = "balance_transaction_id,currency,gross,fee,reporting_category\ntxn_1,usd,abc,0,charge\n";
        let e = read_csv(csv).unwrap_err();
        assert_eq!(e.at, "line 2");
        assert!(e.message.contains("gross \"abc\""));
        let e = read_csv("id,currency,fee\n").unwrap_err();
        assert!(e.message.contains("reporting_category"), "{e}");
    }

    #[test]
    fn the_dashboard_export_reads_too() {
        let csv = "id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Description\ntxn_9,charge,ch_9,\"1,234.50\",36.10,\"1,198.40\",eur,2026-11-01 08:00,Order #7\n";
        let r = read_csv(csv).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.lines[0].gross, 12_345_000);
        assert_eq!(r.lines[0].source_id.as_deref(), Some("ch_9"));
        assert!(r.lines[0].occurred_at.is_some());
    }

    #[test]
    fn stripe_decimals_are_stripes_and_failed_payouts_are_not_payouts() {
        let json = r#"[{"id":"txn_i","object":"balance_transaction","amount":10000,"fee":0,"currency":"isk","type":"charge"},
                      {"id":"txn_m","object":"balance_transaction","amount":5000,"fee":0,"currency":"mga","type":"charge"},
                      {"id":"po_f","object":"payout","amount":1000,"currency":"usd","status":"failed"}]"#;
        let r = read_json(json).unwrap_or_else(|e| panic!("{e}"));
        // 100.00 ISK (Stripe's two decimals), 5000 MGA (none).
        assert_eq!(r.lines[0].gross, 1_000_000);
        assert_eq!(r.lines[1].gross, 50_000_000);
        assert_eq!(r.lines[2].category, "payout_failure");
    }

    #[test]
    fn a_bom_and_a_multi_line_cell_keep_line_numbers_right() {
        let csv = "\u{feff}\"balance_transaction_id\",currency,gross,fee,reporting_category,description,automatic_payout_id\n\
                   txn_1,usd,1.00,0,charge,\"two\nlines\",po_1\n\
                   txn_2,usd,x,0,charge,,po_1\n";
        let e = read_csv(csv).unwrap_err();
        assert_eq!(e.at, "line 4");
        let ok = read_csv("\u{feff}balance_transaction_id,currency,gross,reporting_category,automatic_payout_id\ntxn_1,usd,1.00,charge,po_1\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ok.whole_payouts);
    }

    #[test]
    fn stripe_objects_read_in_minor_units() {
        let json = r#"[{"id":"txn_a","object":"balance_transaction","amount":2000,"fee":88,"net":1912,"currency":"usd","reporting_category":"charge","source":"ch_a","created":1557995177},
                      {"id":"txn_j","object":"balance_transaction","amount":500,"fee":0,"currency":"jpy","type":"charge","source":{"id":"ch_j"}},
                      {"id":"ch_a","object":"charge","payment_intent":"pi_a"},
                      {"id":"po_a","object":"payout","amount":"10.00","currency":"usd","arrival_date":1629676800}]"#;
        let r = read_json(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.lines.len(), 3);
        assert_eq!((r.lines[0].gross, r.lines[0].fee), (200_000, 8_800));
        assert_eq!(r.lines[1].gross, 5_000_000);
        assert_eq!(r.lines[1].source_id.as_deref(), Some("ch_j"));
        assert_eq!(r.lines[2].category, "payout");
        assert_eq!(r.lines[2].gross, -100_000);
        assert_eq!(r.intents["ch_a"], "pi_a");
        let e = read_json(r#"{"object":"customer","id":"cus_1"}"#).unwrap_err();
        assert!(e.message.contains("customer object cannot be reconciled"));
    }
}
