//! After inspection: what happens to each unit (restock, refurbish, dispose) and what the
//! shopper gets back. Pure.

use serde::{Deserialize, Serialize};

use super::policy::Policy;
use crate::domain::money::amount_from_units;
use crate::lifecycle::refund::decide::Split;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Back on the shelf, sellable.
    Restock,
    /// Worth repairing or repackaging before it is sold again.
    Refurbish,
    Dispose,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Restock => "restock",
            Disposition::Refurbish => "refurbish",
            Disposition::Dispose => "dispose",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Restock, Self::Refurbish, Self::Dispose]
            .into_iter()
            .find(|d| d.as_str() == raw)
    }
}

/// The unit's fate from its grade and its value against what handling it costs.
pub fn dispose(p: &Policy, grade: &str, unit_value: i64, currency: &str) -> (Disposition, String) {
    let handling = p.handling_cost_units;
    let money = |u: i64| amount_from_units(u, currency).to_string();
    match grade {
        "A" | "B" if unit_value > handling => (
            Disposition::Restock,
            format!(
                "grade {grade}: sellable, and its value {} is above the handling cost {}",
                money(unit_value),
                money(handling)
            ),
        ),
        "A" | "B" => (
            Disposition::Dispose,
            format!(
                "grade {grade}, but its value {} does not cover the handling cost {}",
                money(unit_value),
                money(handling)
            ),
        ),
        "C" if unit_value - p.refurbish_cost_units > handling => (
            Disposition::Refurbish,
            format!(
                "grade C: worth {} after refurbishing at {}, above the handling cost {}",
                money(unit_value - p.refurbish_cost_units),
                money(p.refurbish_cost_units),
                money(handling)
            ),
        ),
        "C" => (
            Disposition::Dispose,
            format!(
                "grade C: refurbishing at {} leaves less than the handling cost {}",
                money(p.refurbish_cost_units),
                money(handling)
            ),
        ),
        _ => (Disposition::Dispose, format!("grade {grade}: not sellable")),
    }
}

/// One inspected line.
#[derive(Clone, Debug)]
pub struct Inspected {
    pub sku: String,
    pub quantity: i64,
    /// One unit's value without tax (after its discount), and its tax.
    pub unit_value: i64,
    pub unit_tax: i64,
    pub grade: String,
}

/// What the shopper gets back, and how it was worked out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    pub goods: i64,
    pub tax: i64,
    pub shipping: i64,
    /// Restocking fee and label cost kept back (already taken off `goods`).
    pub withheld: i64,
    pub notes: Vec<String>,
}

impl Settlement {
    pub fn split(&self) -> Split {
        Split {
            goods: self.goods,
            shipping: self.shipping,
            tax: self.tax,
        }
    }

    pub fn amount(&self) -> i64 {
        self.goods + self.shipping + self.tax
    }
}

/// Facts beyond the lines.
pub struct Terms {
    pub merchant_fault: bool,
    /// Shipping charged on the order and not refunded yet.
    pub shipping_left: i64,
    pub label_cost: i64,
    /// The most that can still be refunded on the order.
    pub refundable: i64,
}

pub fn settle(p: &Policy, lines: &[Inspected], t: &Terms, currency: &str) -> Settlement {
    let money = |u: i64| amount_from_units(u, currency).to_string();
    let mut notes = Vec::new();
    let (mut goods, mut tax) = (0i64, 0i64);
    for l in lines {
        let percent = if t.merchant_fault {
            100
        } else {
            p.grade_refund_percent
                .get(&l.grade)
                .copied()
                .unwrap_or(0)
                .clamp(0, 100)
        };
        let value = l.unit_value * l.quantity * i64::from(percent) / 100;
        let line_tax = l.unit_tax * l.quantity * i64::from(percent) / 100;
        if percent < 100 {
            notes.push(format!(
                "{} × {} graded {}: {percent}% refunded",
                l.quantity, l.sku, l.grade
            ));
        }
        goods += value;
        tax += line_tax;
    }
    let mut withheld = 0;
    if !t.merchant_fault && p.restocking_fee_percent > 0 {
        let fee = goods * i64::from(p.restocking_fee_percent) / 100;
        withheld += fee;
        notes.push(format!(
            "restocking fee {}% ({})",
            p.restocking_fee_percent,
            money(fee)
        ));
    }
    if !t.merchant_fault && p.deduct_label_cost && t.label_cost > 0 {
        withheld += t.label_cost;
        notes.push(format!("return label {}", money(t.label_cost)));
    }
    let withheld = withheld.min(goods);
    goods -= withheld;
    let shipping = if t.merchant_fault && p.refund_shipping {
        if t.shipping_left > 0 {
            notes.push(format!(
                "shipping {} refunded: the merchant was at fault",
                money(t.shipping_left)
            ));
        }
        t.shipping_left.max(0)
    } else {
        0
    };
    let mut s = Settlement {
        goods,
        tax,
        shipping,
        withheld,
        notes,
    };
    // Never more than the order has left to give back: shipping first, then goods, then tax.
    let mut over = s.amount() - t.refundable.max(0);
    if over > 0 {
        s.notes.push(format!(
            "limited to {} still refundable on the order",
            money(t.refundable.max(0))
        ));
        for part in [&mut s.shipping, &mut s.goods, &mut s.tax] {
            let cut = over.min(*part);
            *part -= cut;
            over -= cut;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kettle(grade: &str) -> Inspected {
        Inspected {
            sku: "KETTLE-1".into(),
            quantity: 1,
            unit_value: 400_000,
            unit_tax: 40_000,
            grade: grade.into(),
        }
    }

    fn terms(merchant_fault: bool) -> Terms {
        Terms {
            merchant_fault,
            shipping_left: 50_000,
            label_cost: 60_000,
            refundable: 10_000_000,
        }
    }

    #[test]
    fn dispositions_follow_grade_and_value() {
        let p = Policy::default();
        assert_eq!(dispose(&p, "A", 400_000, "USD").0, Disposition::Restock);
        assert_eq!(dispose(&p, "B", 10_000, "USD").0, Disposition::Dispose);
        assert_eq!(dispose(&p, "C", 400_000, "USD").0, Disposition::Refurbish);
        assert_eq!(dispose(&p, "C", 90_000, "USD").0, Disposition::Dispose);
        assert_eq!(dispose(&p, "D", 9_000_000, "USD").0, Disposition::Dispose);
        assert!(
            dispose(&p, "A", 400_000, "USD")
                .1
                .contains("above the handling cost 2.00")
        );
    }

    #[test]
    fn the_shopper_pays_for_their_own_change_of_mind() {
        let p = Policy {
            restocking_fee_percent: 10,
            deduct_label_cost: true,
            ..Policy::default()
        };
        let s = settle(&p, &[kettle("A"), kettle("C")], &terms(false), "USD");
        // 40.00 + 50% of 40.00 = 60.00 goods, 6.00 tax; 6.00 fee and 6.00 label kept back.
        assert_eq!(s.tax, 60_000);
        assert_eq!(s.withheld, 120_000);
        assert_eq!(s.goods, 600_000 - 120_000);
        assert_eq!(s.shipping, 0);
        assert_eq!(s.notes.len(), 3);
    }

    #[test]
    fn the_merchant_pays_for_its_mistakes() {
        let p = Policy {
            restocking_fee_percent: 10,
            deduct_label_cost: true,
            ..Policy::default()
        };
        let s = settle(&p, &[kettle("D")], &terms(true), "USD");
        assert_eq!(
            (s.goods, s.tax, s.shipping, s.withheld),
            (400_000, 40_000, 50_000, 0)
        );
    }

    #[test]
    fn never_more_than_is_left_to_refund() {
        let p = Policy::default();
        let mut t = terms(true);
        t.refundable = 420_000;
        let s = settle(&p, &[kettle("A")], &t, "USD");
        assert_eq!(s.amount(), 420_000);
        assert_eq!(s.shipping, 0);
        assert_eq!(s.goods, 380_000);
    }
}
