//! The tenant's return policy and the decisions it makes. Pure: facts in, a decision with
//! its reasons out.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A reason a shopper may give, and whose fault it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub code: String,
    pub label: String,
    /// Damaged, defective, wrong item: the merchant pays (no fee, shipping back, full value).
    pub merchant_fault: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub window_days: i32,
    /// SKUs, or prefixes ending in `*`, sold as final.
    pub final_sale_skus: Vec<String>,
    pub reasons: Vec<Reason>,
    /// Percent of value refunded per grade when the shopper is at fault.
    pub grade_refund_percent: BTreeMap<String, i32>,
    pub auto_approve: bool,
    pub auto_approve_max_units: i64,
    pub auto_approve_max_fraud_score: i32,
    pub auto_approve_max_recent: i32,
    pub restocking_fee_percent: i32,
    pub refund_shipping: bool,
    pub deduct_label_cost: bool,
    pub handling_cost_units: i64,
    pub refurbish_cost_units: i64,
    pub auto_refund: bool,
    pub warehouse_id: Option<uuid::Uuid>,
}

fn reason(code: &str, label: &str, merchant_fault: bool) -> Reason {
    Reason {
        code: code.into(),
        label: label.into(),
        merchant_fault,
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            window_days: 30,
            final_sale_skus: Vec::new(),
            reasons: vec![
                reason("changed_mind", "Changed my mind", false),
                reason("wrong_size", "Doesn't fit", false),
                reason("not_as_described", "Not as described", true),
                reason("damaged", "Arrived damaged", true),
                reason("defective", "Doesn't work", true),
                reason("wrong_item", "Wrong item sent", true),
            ],
            grade_refund_percent: [("A", 100), ("B", 100), ("C", 50), ("D", 0)]
                .into_iter()
                .map(|(g, p)| (g.to_owned(), p))
                .collect(),
            auto_approve: true,
            auto_approve_max_units: 2_000_000,
            auto_approve_max_fraud_score: 40,
            auto_approve_max_recent: 3,
            restocking_fee_percent: 0,
            refund_shipping: true,
            deduct_label_cost: false,
            handling_cost_units: 20_000,
            refurbish_cost_units: 80_000,
            auto_refund: true,
            warehouse_id: None,
        }
    }
}

/// A problem with a setting, naming its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Policy {
    pub fn reason(&self, code: &str) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.code == code)
    }

    pub fn is_final_sale(&self, sku: &str) -> bool {
        self.final_sale_skus
            .iter()
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => sku.starts_with(prefix),
                None => p.eq_ignore_ascii_case(sku),
            })
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        let bad = |field, message: &str| {
            Err(Invalid {
                field,
                message: message.to_owned(),
            })
        };
        if !(0..=3650).contains(&self.window_days) {
            return bad("windowDays", "must be between 0 and 3650 days");
        }
        if self.reasons.is_empty() {
            return bad("reasons", "give at least one reason a shopper may choose");
        }
        let mut codes = std::collections::HashSet::new();
        for r in &self.reasons {
            let ok = !r.code.is_empty()
                && r.code.len() <= 40
                && r.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return bad(
                    "reasons",
                    "each code must be 1 to 40 lowercase letters, digits or _",
                );
            }
            if r.label.trim().is_empty() || r.label.chars().count() > 80 {
                return bad("reasons", "each label must be 1 to 80 characters");
            }
            if !codes.insert(r.code.as_str()) {
                return bad("reasons", "each code may appear once");
            }
        }
        for g in GRADES {
            match self.grade_refund_percent.get(g) {
                Some(p) if (0..=100).contains(p) => {}
                _ => {
                    return bad(
                        "gradeRefundPercent",
                        "give A, B, C and D a percent from 0 to 100",
                    );
                }
            }
        }
        if !(0..=100).contains(&self.restocking_fee_percent) {
            return bad("restockingFeePercent", "must be between 0 and 100");
        }
        if !(0..=100).contains(&self.auto_approve_max_fraud_score) {
            return bad("autoApproveMaxFraudScore", "must be between 0 and 100");
        }
        if self.auto_approve_max_units < 0
            || self.handling_cost_units < 0
            || self.refurbish_cost_units < 0
            || self.auto_approve_max_recent < 0
        {
            return bad(
                "autoApproveMaxValue",
                "amounts and counts must not be negative",
            );
        }
        if self.final_sale_skus.iter().any(|s| s.trim().is_empty()) {
            return bad("finalSaleSkus", "must not contain empty SKUs");
        }
        Ok(())
    }
}

/// Condition grades, best first.
pub const GRADES: [&str; 4] = ["A", "B", "C", "D"];

/// One line the shopper asks to send back.
#[derive(Clone, Debug)]
pub struct Asked {
    /// Index of the line in the request (for the error's field path).
    pub index: usize,
    pub sku: String,
    pub quantity: i64,
    /// Bought less already on a return.
    pub returnable: i64,
    /// What one unit was paid, with its tax.
    pub unit_paid: i64,
}

/// Facts about the request.
pub struct Request<'a> {
    pub delivered_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    pub reason: &'a str,
    pub lines: &'a [Asked],
    pub fraud_score: Option<i32>,
    /// Returns by the same customer in the last 90 days.
    pub recent_returns: i64,
}

/// A request that cannot be taken: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub field: Vec<String>,
    pub message: String,
}

fn refused(field: &[&str], message: String) -> Refused {
    Refused {
        field: field.iter().map(|f| (*f).to_owned()).collect(),
        message,
    }
}

/// Whether the request may be made at all.
pub fn eligible(p: &Policy, r: &Request<'_>) -> Result<(), Refused> {
    let Some(delivered) = r.delivered_at else {
        return Err(refused(
            &["orderId"],
            "the order has not been delivered yet; a return can be asked for once it arrives"
                .into(),
        ));
    };
    let closes = delivered + Duration::days(i64::from(p.window_days));
    if r.now > closes {
        return Err(refused(
            &["orderId"],
            format!(
                "the {}-day return window closed on {}",
                p.window_days,
                closes.format("%Y-%m-%d")
            ),
        ));
    }
    if p.reason(r.reason).is_none() {
        let codes: Vec<&str> = p.reasons.iter().map(|x| x.code.as_str()).collect();
        return Err(refused(
            &["reason"],
            format!("must be one of: {}", codes.join(", ")),
        ));
    }
    if r.lines.is_empty() {
        return Err(refused(&["lines"], "choose at least one item".into()));
    }
    for l in r.lines {
        let i = l.index.to_string();
        if p.is_final_sale(&l.sku) {
            return Err(refused(
                &["lines", &i, "sku"],
                format!("{} was a final sale and cannot be returned", l.sku),
            ));
        }
        if l.quantity < 1 || l.quantity > l.returnable {
            return Err(refused(
                &["lines", &i, "quantity"],
                format!("{} of {} can be returned", l.returnable.max(0), l.sku),
            ));
        }
    }
    Ok(())
}

/// Approved without staff, or why staff must look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub automatic: bool,
    /// Every check, passed or not, in words.
    pub reasons: Vec<String>,
}

pub fn approval(p: &Policy, r: &Request<'_>, money: impl Fn(i64) -> String) -> Approval {
    let value: i64 = r.lines.iter().map(|l| l.unit_paid * l.quantity).sum();
    let mut reasons = Vec::new();
    let mut automatic = p.auto_approve;
    if !p.auto_approve {
        reasons.push("automatic approval is off: staff approve every return".to_owned());
    }
    if value <= p.auto_approve_max_units {
        reasons.push(format!(
            "value {} is within the automatic limit {}",
            money(value),
            money(p.auto_approve_max_units)
        ));
    } else {
        automatic = false;
        reasons.push(format!(
            "value {} is over the automatic limit {}",
            money(value),
            money(p.auto_approve_max_units)
        ));
    }
    match r.fraud_score {
        Some(s) if s > p.auto_approve_max_fraud_score => {
            automatic = false;
            reasons.push(format!(
                "the order's fraud score {s} is over {}",
                p.auto_approve_max_fraud_score
            ));
        }
        Some(s) => reasons.push(format!("low-risk order (fraud score {s})")),
        None => reasons.push("the order has no fraud score".to_owned()),
    }
    if r.recent_returns >= i64::from(p.auto_approve_max_recent) {
        automatic = false;
        reasons.push(format!(
            "the customer has made {} returns in 90 days (limit {})",
            r.recent_returns, p.auto_approve_max_recent
        ));
    } else {
        reasons.push(format!(
            "{} earlier returns by this customer in 90 days",
            r.recent_returns
        ));
    }
    Approval { automatic, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(sku: &str, quantity: i64, returnable: i64, unit_paid: i64) -> Asked {
        Asked {
            index: 0,
            sku: sku.into(),
            quantity,
            returnable,
            unit_paid,
        }
    }

    fn request<'a>(lines: &'a [Asked], delivered_days_ago: i64) -> Request<'a> {
        let now = Utc::now();
        Request {
            delivered_at: Some(now - Duration::days(delivered_days_ago)),
            now,
            reason: "changed_mind",
            lines,
            fraud_score: Some(10),
            recent_returns: 0,
        }
    }

    #[test]
    fn the_window_runs_from_delivery() {
        let p = Policy::default();
        let lines = [asked("KETTLE-1", 1, 1, 400_000)];
        assert!(eligible(&p, &request(&lines, 29)).is_ok());
        let late = eligible(&p, &request(&lines, 31)).unwrap_err();
        assert_eq!(late.field, vec!["orderId"]);
        assert!(late.message.contains("30-day return window closed"));
        let mut undelivered = request(&lines, 0);
        undelivered.delivered_at = None;
        assert!(eligible(&p, &undelivered).is_err());
    }

    #[test]
    fn final_sale_quantity_and_reason_are_checked_per_field() {
        let p = Policy {
            final_sale_skus: vec!["CLEAR-*".into()],
            ..Policy::default()
        };
        let lines = [asked("CLEAR-7", 1, 1, 100)];
        let e = eligible(&p, &request(&lines, 1)).unwrap_err();
        assert_eq!(e.field, vec!["lines", "0", "sku"]);
        let lines = [asked("KETTLE-1", 3, 2, 100)];
        let e = eligible(&p, &request(&lines, 1)).unwrap_err();
        assert_eq!(e.field, vec!["lines", "0", "quantity"]);
        assert_eq!(e.message, "2 of KETTLE-1 can be returned");
        let lines = [asked("KETTLE-1", 1, 1, 100)];
        let mut r = request(&lines, 1);
        r.reason = "bored";
        assert_eq!(eligible(&p, &r).unwrap_err().field, vec!["reason"]);
    }

    #[test]
    fn auto_approval_needs_every_check() {
        let p = Policy::default();
        let money = |u: i64| format!("{:.2}", u as f64 / 10_000.0);
        let small = [asked("KETTLE-1", 1, 1, 400_000)];
        assert!(approval(&p, &request(&small, 1), money).automatic);
        let big = [asked("KETTLE-1", 6, 6, 400_000)];
        let a = approval(&p, &request(&big, 1), money);
        assert!(!a.automatic);
        assert!(
            a.reasons
                .iter()
                .any(|r| r.contains("over the automatic limit 200.00"))
        );
        let mut risky = request(&small, 1);
        risky.fraud_score = Some(70);
        assert!(!approval(&p, &risky, money).automatic);
        let mut frequent = request(&small, 1);
        frequent.recent_returns = 3;
        assert!(!approval(&p, &frequent, money).automatic);
        let off = Policy {
            auto_approve: false,
            ..Policy::default()
        };
        assert!(!approval(&off, &request(&small, 1), money).automatic);
    }

    #[test]
    fn settings_are_validated_by_field() {
        let p = Policy {
            restocking_fee_percent: 120,
            ..Policy::default()
        };
        assert_eq!(p.validate().unwrap_err().field, "restockingFeePercent");
        let mut p = Policy::default();
        p.reasons.push(reason("Bad Code", "x", false));
        assert_eq!(p.validate().unwrap_err().field, "reasons");
        let mut p = Policy::default();
        p.grade_refund_percent.remove("C");
        assert_eq!(p.validate().unwrap_err().field, "gradeRefundPercent");
        assert!(Policy::default().validate().is_ok());
    }
}
