//! The chart of accounts and how each money event is posted. Pure: an operation in, a balanced
//! journal entry out, or the reason it cannot balance. Amounts are integer units at scale 4
//! (as everywhere), one currency per entry. Entries are never edited: a correction is the
//! reversing entry of the wrong one, then the right one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// Asset: captured money the payment processor holds until it pays out.
    ProcessorClearing,
    /// Asset: money paid out to the merchant's bank.
    Bank,
    /// Liability: tax collected, owed to the authorities.
    TaxPayable,
    /// Liability: store credit granted and not yet spent.
    StoreCredit,
    /// Liability: label costs owed to carriers.
    CarrierPayable,
    /// Revenue: goods sold, before discounts, without tax.
    SalesRevenue,
    /// Revenue: shipping charged to shoppers.
    ShippingRevenue,
    /// Contra-revenue: discounts given.
    Discounts,
    /// Contra-revenue: goods refunded.
    Refunds,
    /// Expense: processing fees.
    PaymentFees,
    /// Expense: shipping labels bought.
    ShippingCost,
    /// Expense: disputed payments lost, and their fees.
    Chargebacks,
    /// Expense (or income when negative): differences with the processor written off.
    ReconciliationAdjustments,
}

impl Account {
    pub const ALL: [Account; 13] = [
        Account::ProcessorClearing,
        Account::Bank,
        Account::TaxPayable,
        Account::StoreCredit,
        Account::CarrierPayable,
        Account::SalesRevenue,
        Account::ShippingRevenue,
        Account::Discounts,
        Account::Refunds,
        Account::PaymentFees,
        Account::ShippingCost,
        Account::Chargebacks,
        Account::ReconciliationAdjustments,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Account::ProcessorClearing => "processor_clearing",
            Account::Bank => "bank",
            Account::TaxPayable => "tax_payable",
            Account::StoreCredit => "store_credit",
            Account::CarrierPayable => "carrier_payable",
            Account::SalesRevenue => "sales_revenue",
            Account::ShippingRevenue => "shipping_revenue",
            Account::Discounts => "discounts",
            Account::Refunds => "refunds",
            Account::PaymentFees => "payment_fees",
            Account::ShippingCost => "shipping_cost",
            Account::Chargebacks => "chargebacks",
            Account::ReconciliationAdjustments => "reconciliation_adjustments",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// One side of one account in an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub account: Account,
    /// Units; exactly one of debit and credit is positive.
    pub debit: i64,
    pub credit: i64,
}

/// A journal entry: lines whose debits equal their credits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub currency: String,
    pub lines: Vec<Line>,
    pub memo: String,
}

/// Why an operation has no entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unbalanced {
    #[error("{0} must not be negative")]
    Negative(&'static str),
    #[error("the parts ({parts}) do not add up to the total ({total})")]
    Parts { parts: i64, total: i64 },
    #[error("nothing to post")]
    Empty,
}

/// A money event to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A payment captured for an order: `total` = `goods` − `discounts` + `shipping` + `tax`
    /// (`goods` without tax).
    Sale {
        goods: i64,
        discounts: i64,
        shipping: i64,
        tax: i64,
        total: i64,
    },
    /// The processor's fee on a payment.
    Fee { amount: i64 },
    /// Money back to the shopper's payment method: goods, shipping and the tax on them.
    Refund { goods: i64, shipping: i64, tax: i64 },
    /// A refund as store credit instead of money.
    CreditRefund { goods: i64, shipping: i64, tax: i64 },
    /// A shipping label bought.
    Label { cost: i64 },
    /// A dispute lost: the amount taken back and the processor's dispute fee.
    Chargeback { amount: i64, fee: i64 },
    /// The processor paid the merchant's bank.
    Payout { amount: i64 },
    /// A difference with the processor written off: positive when it holds more than our
    /// books say, negative when less.
    Adjustment { amount: i64 },
}

impl Operation {
    /// The entry's kind, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::Sale { .. } => "sale",
            Operation::Fee { .. } => "fee",
            Operation::Refund { .. } => "refund",
            Operation::CreditRefund { .. } => "credit_refund",
            Operation::Label { .. } => "label",
            Operation::Chargeback { .. } => "chargeback",
            Operation::Payout { .. } => "payout",
            Operation::Adjustment { .. } => "adjustment",
        }
    }
}

fn debit(account: Account, units: i64) -> Line {
    Line {
        account,
        debit: units,
        credit: 0,
    }
}

fn credit(account: Account, units: i64) -> Line {
    Line {
        account,
        debit: 0,
        credit: units,
    }
}

fn non_negative(parts: &[(&'static str, i64)]) -> Result<(), Unbalanced> {
    match parts.iter().find(|(_, v)| *v < 0) {
        Some((name, _)) => Err(Unbalanced::Negative(name)),
        None => Ok(()),
    }
}

/// The entry that records `op` in `currency`.
pub fn post(op: &Operation, currency: &str, memo: &str) -> Result<Entry, Unbalanced> {
    use Account::*;
    let lines = match *op {
        Operation::Sale {
            goods,
            discounts,
            shipping,
            tax,
            total,
        } => {
            non_negative(&[
                ("goods", goods),
                ("discounts", discounts),
                ("shipping", shipping),
                ("tax", tax),
                ("total", total),
            ])?;
            let parts = goods - discounts + shipping + tax;
            if parts != total {
                return Err(Unbalanced::Parts { parts, total });
            }
            vec![
                debit(ProcessorClearing, total),
                debit(Discounts, discounts),
                credit(SalesRevenue, goods),
                credit(ShippingRevenue, shipping),
                credit(TaxPayable, tax),
            ]
        }
        Operation::Fee { amount } => {
            non_negative(&[("amount", amount)])?;
            vec![
                debit(PaymentFees, amount),
                credit(ProcessorClearing, amount),
            ]
        }
        Operation::Refund {
            goods,
            shipping,
            tax,
        } => {
            non_negative(&[("goods", goods), ("shipping", shipping), ("tax", tax)])?;
            vec![
                debit(Refunds, goods),
                debit(ShippingRevenue, shipping),
                debit(TaxPayable, tax),
                credit(ProcessorClearing, goods + shipping + tax),
            ]
        }
        Operation::CreditRefund {
            goods,
            shipping,
            tax,
        } => {
            non_negative(&[("goods", goods), ("shipping", shipping), ("tax", tax)])?;
            vec![
                debit(Refunds, goods),
                debit(ShippingRevenue, shipping),
                debit(TaxPayable, tax),
                credit(StoreCredit, goods + shipping + tax),
            ]
        }
        Operation::Label { cost } => {
            non_negative(&[("cost", cost)])?;
            vec![debit(ShippingCost, cost), credit(CarrierPayable, cost)]
        }
        Operation::Chargeback { amount, fee } => {
            non_negative(&[("amount", amount), ("fee", fee)])?;
            vec![
                debit(Chargebacks, amount + fee),
                credit(ProcessorClearing, amount + fee),
            ]
        }
        Operation::Payout { amount } => {
            non_negative(&[("amount", amount)])?;
            vec![debit(Bank, amount), credit(ProcessorClearing, amount)]
        }
        Operation::Adjustment { amount } if amount >= 0 => vec![
            debit(ProcessorClearing, amount),
            credit(ReconciliationAdjustments, amount),
        ],
        Operation::Adjustment { amount } => vec![
            debit(ReconciliationAdjustments, -amount),
            credit(ProcessorClearing, -amount),
        ],
    };
    let lines: Vec<Line> = lines
        .into_iter()
        .filter(|l| l.debit != 0 || l.credit != 0)
        .collect();
    if lines.is_empty() {
        return Err(Unbalanced::Empty);
    }
    Ok(Entry {
        currency: currency.to_owned(),
        lines,
        memo: memo.to_owned(),
    })
}

/// The entry that undoes `entry` (the only way to correct the ledger).
pub fn reverse(entry: &Entry, memo: &str) -> Entry {
    Entry {
        currency: entry.currency.clone(),
        lines: entry
            .lines
            .iter()
            .map(|l| Line {
                account: l.account,
                debit: l.credit,
                credit: l.debit,
            })
            .collect(),
        memo: memo.to_owned(),
    }
}

impl Entry {
    /// Debits equal credits, and each line has exactly one positive side.
    pub fn is_balanced(&self) -> bool {
        let sides_ok = self
            .lines
            .iter()
            .all(|l| l.debit >= 0 && l.credit >= 0 && (l.debit == 0) != (l.credit == 0));
        let debits: i64 = self.lines.iter().map(|l| l.debit).sum();
        let credits: i64 = self.lines.iter().map(|l| l.credit).sum();
        sides_ok && debits == credits && !self.lines.is_empty()
    }
}

/// Each account's balance (debits minus credits) over `entries` of one currency.
pub fn balances<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> BTreeMap<Account, i64> {
    let mut out = BTreeMap::new();
    for e in entries {
        for l in &e.lines {
            *out.entry(l.account).or_insert(0) += l.debit - l.credit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn sale(goods: i64, discounts: i64, shipping: i64, tax: i64) -> Operation {
        Operation::Sale {
            goods,
            discounts,
            shipping,
            tax,
            total: goods - discounts + shipping + tax,
        }
    }

    #[test]
    fn a_sale_splits_into_revenue_shipping_and_tax() {
        let e = post(
            &sale(1_000_000, 100_000, 50_000, 76_000),
            "USD",
            "order #1001",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(e.is_balanced());
        let b = balances([&e]);
        assert_eq!(b[&Account::ProcessorClearing], 1_026_000);
        assert_eq!(b[&Account::Discounts], 100_000);
        assert_eq!(b[&Account::SalesRevenue], -1_000_000);
        assert_eq!(b[&Account::ShippingRevenue], -50_000);
        assert_eq!(b[&Account::TaxPayable], -76_000);
    }

    #[test]
    fn parts_that_do_not_add_up_or_negative_amounts_are_refused() {
        let bad = Operation::Sale {
            goods: 100,
            discounts: 0,
            shipping: 0,
            tax: 0,
            total: 101,
        };
        assert_eq!(
            post(&bad, "USD", ""),
            Err(Unbalanced::Parts {
                parts: 100,
                total: 101
            })
        );
        assert_eq!(
            post(&Operation::Fee { amount: -1 }, "USD", ""),
            Err(Unbalanced::Negative("amount"))
        );
        assert_eq!(
            post(&Operation::Payout { amount: 0 }, "USD", ""),
            Err(Unbalanced::Empty)
        );
    }

    fn random_op(rng: &mut StdRng) -> Operation {
        let amount = |rng: &mut StdRng| rng.random_range(0..5_000_000i64);
        match rng.random_range(0..8) {
            0 => {
                let goods = amount(rng) + 1;
                let discounts = rng.random_range(0..=goods);
                sale(goods, discounts, amount(rng), amount(rng))
            }
            1 => Operation::Fee {
                amount: amount(rng) + 1,
            },
            2 => Operation::Refund {
                goods: amount(rng) + 1,
                shipping: amount(rng),
                tax: amount(rng),
            },
            3 => Operation::CreditRefund {
                goods: amount(rng) + 1,
                shipping: amount(rng),
                tax: amount(rng),
            },
            4 => Operation::Label {
                cost: amount(rng) + 1,
            },
            5 => Operation::Chargeback {
                amount: amount(rng) + 1,
                fee: amount(rng),
            },
            6 => Operation::Adjustment {
                amount: match amount(rng) - 2_500_000 {
                    0 => 1,
                    a => a,
                },
            },
            _ => Operation::Payout {
                amount: amount(rng) + 1,
            },
        }
    }

    /// Over random sequences of operations (and reversals of random earlier entries): every
    /// entry balances, the books sum to zero after every step, and reversing an entry takes
    /// each account back to where it was without it.
    #[test]
    fn the_books_balance_after_any_sequence_of_operations() {
        let mut rng = StdRng::seed_from_u64(20261127);
        for _ in 0..500 {
            let mut journal: Vec<Entry> = Vec::new();
            for step in 0..60 {
                let entry = if !journal.is_empty() && rng.random_range(0..5) == 0 {
                    let i = rng.random_range(0..journal.len());
                    reverse(&journal[i], "correction")
                } else {
                    post(&random_op(&mut rng), "EUR", &format!("op {step}"))
                        .unwrap_or_else(|e| panic!("{e}"))
                };
                assert!(entry.is_balanced(), "{entry:?}");
                journal.push(entry);
                let total: i64 = balances(&journal).values().sum();
                assert_eq!(total, 0, "the books are out by {total}");
            }
            // Reversing everything, in any order, leaves every account at zero.
            let reversals: Vec<Entry> = journal.iter().rev().map(|e| reverse(e, "undo")).collect();
            journal.extend(reversals);
            assert!(balances(&journal).values().all(|v| *v == 0));
        }
    }

    #[test]
    fn processor_clearing_is_what_the_processor_holds() {
        let ops = [
            sale(2_000_000, 0, 0, 0),
            Operation::Fee { amount: 88_000 },
            Operation::Refund {
                goods: 500_000,
                shipping: 0,
                tax: 0,
            },
            Operation::Chargeback {
                amount: 300_000,
                fee: 150_000,
            },
            Operation::Payout { amount: 900_000 },
        ];
        let entries: Vec<Entry> = ops
            .iter()
            .map(|o| post(o, "USD", "").unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let b = balances(&entries);
        assert_eq!(
            b[&Account::ProcessorClearing],
            2_000_000 - 88_000 - 500_000 - 450_000 - 900_000
        );
        assert_eq!(b[&Account::Bank], 900_000);
    }
}
