//! Matching one line of a processor's report against our books. Pure: the line and what we
//! know of its order in, the verdict and what to book out.

use super::stripe::Line;
use crate::domain::money::amount_from_units;
use crate::lifecycle::ledger::book::Operation;

/// A refund we recorded on the order.
#[derive(Clone, Debug)]
pub struct KnownRefund {
    pub id: uuid::Uuid,
    pub amount: i64,
    pub provider_ref: Option<String>,
    /// Already matched to an earlier line.
    pub matched: bool,
}

/// What our books say about the order a line names.
#[derive(Clone, Debug)]
pub struct OrderFacts {
    pub id: uuid::Uuid,
    pub name: String,
    pub currency: String,
    pub captured: i64,
    pub refunds: Vec<KnownRefund>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discrepancy {
    /// No order of ours is behind the line.
    Unmatched,
    AmountMismatch,
    CurrencyMismatch,
    /// A kind of line that needs a person (adjustments, reserves, a dispute won…).
    UnexpectedCategory,
}

impl Discrepancy {
    pub fn as_str(self) -> &'static str {
        match self {
            Discrepancy::Unmatched => "unmatched",
            Discrepancy::AmountMismatch => "amount_mismatch",
            Discrepancy::CurrencyMismatch => "currency_mismatch",
            Discrepancy::UnexpectedCategory => "unexpected_category",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// None: matched.
    pub discrepancy: Option<Discrepancy>,
    pub order: Option<uuid::Uuid>,
    pub refund: Option<uuid::Uuid>,
    /// What our books say the gross should be, when they disagree.
    pub expected: Option<i64>,
    pub message: String,
    /// What to book, each with the key that makes it once.
    pub postings: Vec<(Operation, String)>,
}

fn money(units: i64, currency: &str) -> String {
    format!("{} {currency}", amount_from_units(units, currency))
}

fn fee_of(line: &Line) -> Vec<(Operation, String)> {
    if line.fee > 0 {
        vec![(
            Operation::Fee { amount: line.fee },
            format!("fee:{}", line.transaction_id),
        )]
    } else {
        Vec::new()
    }
}

pub fn decide(line: &Line, order: Option<&OrderFacts>) -> Verdict {
    let cur = &line.currency;
    let verdict = |discrepancy, order: Option<&OrderFacts>, message: String| Verdict {
        discrepancy,
        order: order.map(|o| o.id),
        refund: None,
        expected: None,
        message,
        postings: Vec::new(),
    };
    let reference = || {
        line.payment_intent_id
            .clone()
            .or_else(|| line.charge_id.clone())
            .or_else(|| line.source_id.clone())
            .unwrap_or_else(|| "an unknown payment".into())
    };
    match line.category.as_str() {
        "charge" | "payment" => {
            let Some(o) = order else {
                return verdict(
                    Some(Discrepancy::Unmatched),
                    None,
                    format!("no order has payment {}", reference()),
                );
            };
            let mut v = verdict(None, Some(o), String::new());
            if o.currency != *cur {
                // Nothing booked: a write-off books the line whole.
                v.discrepancy = Some(Discrepancy::CurrencyMismatch);
                v.message = format!(
                    "the processor took {} but order {} is in {}",
                    cur, o.name, o.currency
                );
            } else if o.captured != line.gross {
                v.postings = fee_of(line);
                v.discrepancy = Some(Discrepancy::AmountMismatch);
                v.expected = Some(o.captured);
                v.message = format!(
                    "the processor captured {} for order {}, our books {}",
                    money(line.gross, cur),
                    o.name,
                    money(o.captured, cur)
                );
            } else {
                v.postings = fee_of(line);
                v.message = format!("payment for order {}, fee {}", o.name, money(line.fee, cur));
            }
            v
        }
        "refund" | "payment_refund" => {
            let Some(o) = order else {
                return verdict(
                    Some(Discrepancy::Unmatched),
                    None,
                    format!(
                        "a refund of {} for no order of ours",
                        money(-line.gross, cur)
                    ),
                );
            };
            let amount = -line.gross;
            let by_ref = o.refunds.iter().find(|r| {
                !r.matched && r.provider_ref.is_some() && r.provider_ref == line.source_id
            });
            let found =
                by_ref.or_else(|| o.refunds.iter().find(|r| !r.matched && r.amount == amount));
            let mut v = verdict(None, Some(o), String::new());
            v.postings = fee_of(line);
            match found {
                Some(r) if r.amount == amount => {
                    v.refund = Some(r.id);
                    v.message = format!("refund of {} on order {}", money(amount, cur), o.name);
                }
                Some(r) => {
                    v.refund = Some(r.id);
                    v.discrepancy = Some(Discrepancy::AmountMismatch);
                    v.expected = Some(-r.amount);
                    v.message = format!(
                        "the processor refunded {} on order {}, our refund was {}",
                        money(amount, cur),
                        o.name,
                        money(r.amount, cur)
                    );
                }
                None => {
                    v.discrepancy = Some(Discrepancy::AmountMismatch);
                    v.expected = Some(0);
                    v.message = format!(
                        "the processor refunded {} on order {} and we recorded no such refund",
                        money(amount, cur),
                        o.name
                    );
                }
            }
            v
        }
        "dispute" if line.gross < 0 => {
            let Some(o) = order else {
                return verdict(
                    Some(Discrepancy::Unmatched),
                    None,
                    format!(
                        "a dispute of {} for no order of ours",
                        money(-line.gross, cur)
                    ),
                );
            };
            let mut v = verdict(
                None,
                Some(o),
                format!(
                    "chargeback of {} on order {}, dispute fee {}",
                    money(-line.gross, cur),
                    o.name,
                    money(line.fee, cur)
                ),
            );
            v.postings = vec![(
                Operation::Chargeback {
                    amount: -line.gross,
                    fee: line.fee.max(0),
                },
                format!("chargeback:{}", line.transaction_id),
            )];
            v
        }
        "payout" if line.gross < 0 => {
            let id = line
                .payout_id
                .clone()
                .or_else(|| line.source_id.clone())
                .unwrap_or_else(|| line.transaction_id.clone());
            let mut v = verdict(
                None,
                None,
                format!("payout {id} of {} to the bank", money(-line.gross, cur)),
            );
            v.postings = vec![(
                Operation::Payout {
                    amount: -line.gross,
                },
                format!("payout:{id}"),
            )];
            v
        }
        "fee" | "stripe_fee" | "network_cost" if line.gross < 0 => {
            let mut v = verdict(
                None,
                order,
                format!("processor fee {}", money(-line.gross, cur)),
            );
            v.postings = vec![(
                Operation::Fee {
                    amount: -line.gross,
                },
                format!("fee:{}", line.transaction_id),
            )];
            v
        }
        other => verdict(
            Some(Discrepancy::UnexpectedCategory),
            order,
            format!(
                "a {} line of {}: check it and resolve it by hand",
                if other.is_empty() { "typeless" } else { other },
                money(line.gross, cur)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(category: &str, gross: i64, fee: i64) -> Line {
        Line {
            line_no: 1,
            transaction_id: "txn_1".into(),
            category: category.into(),
            source_id: Some("ch_1".into()),
            charge_id: None,
            payment_intent_id: None,
            order_ref: None,
            description: None,
            currency: "USD".into(),
            gross,
            fee,
            net: gross - fee,
            occurred_at: None,
            payout_id: None,
            raw: serde_json::Value::Null,
        }
    }

    fn order(captured: i64) -> OrderFacts {
        OrderFacts {
            id: uuid::Uuid::nil(),
            name: "#1001".into(),
            currency: "USD".into(),
            captured,
            refunds: vec![KnownRefund {
                id: uuid::Uuid::max(),
                amount: 50_000,
                provider_ref: None,
                matched: false,
            }],
        }
    }

    #[test]
    fn a_charge_matches_its_order_and_books_the_fee() {
        let v = decide(&line("charge", 200_000, 8_800), Some(&order(200_000)));
        assert_eq!(v.discrepancy, None);
        assert_eq!(
            v.postings,
            vec![(Operation::Fee { amount: 8_800 }, "fee:txn_1".into())]
        );
        let v = decide(&line("charge", 200_000, 8_800), Some(&order(250_000)));
        assert_eq!(v.discrepancy, Some(Discrepancy::AmountMismatch));
        assert_eq!(v.expected, Some(250_000));
        assert!(
            v.message
                .contains("captured 20.00 USD for order #1001, our books 25.00 USD"),
            "{}",
            v.message
        );
        let v = decide(&line("charge", 200_000, 8_800), None);
        assert_eq!(v.discrepancy, Some(Discrepancy::Unmatched));
        assert!(v.postings.is_empty());
    }

    #[test]
    fn refunds_match_ours_by_reference_or_amount() {
        let v = decide(&line("refund", -50_000, 0), Some(&order(200_000)));
        assert_eq!((v.discrepancy, v.refund), (None, Some(uuid::Uuid::max())));
        let v = decide(&line("refund", -70_000, 0), Some(&order(200_000)));
        assert_eq!(v.discrepancy, Some(Discrepancy::AmountMismatch));
    }

    #[test]
    fn disputes_payouts_and_the_rest() {
        let v = decide(&line("dispute", -100_000, 150_000), Some(&order(200_000)));
        assert_eq!(
            v.postings[0].0,
            Operation::Chargeback {
                amount: 100_000,
                fee: 150_000
            }
        );
        let mut p = line("payout", -90_000, 0);
        p.payout_id = Some("po_1".into());
        let v = decide(&p, None);
        assert_eq!(
            v.postings,
            vec![(Operation::Payout { amount: 90_000 }, "payout:po_1".into())]
        );
        let v = decide(&line("reserve_transaction", -1, 0), None);
        assert_eq!(v.discrepancy, Some(Discrepancy::UnexpectedCategory));
    }
}
