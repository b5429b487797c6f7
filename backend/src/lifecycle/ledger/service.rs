//! Posting the business events of the other stages: a sale when money is captured, a label
//! when one is bought (reversed when voided), refunds, fees, chargebacks and payouts from the
//! processor. Each posting has a key, so running it twice books it once.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::book::{self, Operation, Unbalanced};
use super::repo::{self, EntryRow, NewEntry, SourceKind};
use crate::domain::OrderId;
use crate::domain::money::to_units;
use crate::order::canonical::PaymentFacts;
use crate::order::repo::Order;
use crate::tenancy::{Actor, TenantTx};

/// One business event to book.
pub struct Posting {
    pub op: Operation,
    pub currency: String,
    pub memo: String,
    pub source: (SourceKind, uuid::Uuid),
    pub order: Option<OrderId>,
    pub key: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
}

impl Posting {
    fn into_entry(self) -> Result<NewEntry, Unbalanced> {
        let entry = book::post(&self.op, &self.currency, &self.memo)?;
        Ok(NewEntry {
            kind: self.op.kind(),
            entry,
            source: self.source,
            order: self.order,
            reverses: None,
            dedupe_key: self.key,
            effective_at: self.at,
            actor: self.actor,
        })
    }
}

/// Books `postings`; one that cannot balance is an error naming it (a bug upstream, never
/// skipped silently). Returns the entries stored (keys already booked are left out).
pub async fn post(tx: &TenantTx, postings: Vec<Posting>) -> Result<Vec<EntryRow>, DbErr> {
    let mut entries = Vec::with_capacity(postings.len());
    for p in postings {
        let memo = p.memo.clone();
        entries.push(
            p.into_entry()
                .map_err(|e| DbErr::Custom(format!("ledger entry \"{memo}\": {e}")))?,
        );
    }
    repo::insert(tx, entries).await
}

/// Captured units of an order, as far as the payment facts tell.
pub fn captured_units(order: &Order) -> i64 {
    let facts: PaymentFacts = serde_json::from_value(order.payment.clone()).unwrap_or_default();
    to_units(facts.amount_captured).unwrap_or(0).max(0)
}

/// The sale of `captured` units of an order: its parts scaled to what was captured, goods
/// taking the rounding. `None` when there is nothing to book.
pub fn sale_split(
    total: i64,
    discounts: i64,
    shipping: i64,
    tax: i64,
    captured: i64,
) -> Option<Operation> {
    if total <= 0 || captured <= 0 {
        return None;
    }
    let captured = captured.min(total);
    let scale = |part: i64| -> i64 {
        i64::try_from(i128::from(part.max(0)) * i128::from(captured) / i128::from(total))
            .unwrap_or(0)
    };
    let (discounts, shipping, tax) = (scale(discounts), scale(shipping), scale(tax));
    let goods = captured + discounts - shipping - tax;
    if goods < 0 {
        // Totals that do not add up (a channel's rounding): book it all as goods.
        return Some(Operation::Sale {
            goods: captured,
            discounts: 0,
            shipping: 0,
            tax: 0,
            total: captured,
        });
    }
    Some(Operation::Sale {
        goods,
        discounts,
        shipping,
        tax,
        total: captured,
    })
}

/// After capture stored an order: books what was captured beyond what is booked already.
pub async fn on_captured(tx: &TenantTx, order: &Order, actor: Actor) -> Result<(), DbErr> {
    if order.test {
        return Ok(());
    }
    let captured = captured_units(order).min(order.total.units());
    if captured <= 0 {
        return Ok(());
    }
    let booked = repo::sold_for(tx, OrderId(order.id)).await?;
    if captured <= booked {
        return Ok(());
    }
    // The parts of the whole captured amount, less the parts booked before.
    let parts = |units| {
        sale_split(
            order.total.units(),
            order.discounts.units(),
            order.shipping.units(),
            order.tax.units(),
            units,
        )
    };
    let op = match (parts(captured), parts(booked)) {
        (
            Some(Operation::Sale {
                goods,
                discounts,
                shipping,
                tax,
                total,
            }),
            Some(Operation::Sale {
                goods: g0,
                discounts: d0,
                shipping: s0,
                tax: t0,
                total: x0,
            }),
        ) => Operation::Sale {
            goods: (goods - g0).max(0),
            discounts: (discounts - d0).max(0),
            shipping: (shipping - s0).max(0),
            tax: (tax - t0).max(0),
            total: total - x0,
        },
        (Some(op), _) => op,
        (None, _) => return Ok(()),
    };
    // Differences of rounded parts may not add up: fall back to goods only.
    let op = match op {
        Operation::Sale {
            goods,
            discounts,
            shipping,
            tax,
            total,
        } if goods - discounts + shipping + tax != total => Operation::Sale {
            goods: total,
            discounts: 0,
            shipping: 0,
            tax: 0,
            total,
        },
        op => op,
    };
    post(
        tx,
        vec![Posting {
            op,
            currency: order.currency.to_string(),
            memo: format!("sale {}", order.name),
            source: (SourceKind::Order, order.id),
            order: Some(OrderId(order.id)),
            key: format!("sale:{}:{captured}", order.id),
            at: if booked == 0 {
                order.placed_at
            } else {
                Utc::now()
            },
            actor,
        }],
    )
    .await?;
    Ok(())
}

/// Reverses an entry (once): the only correction the ledger knows.
pub async fn reverse(
    tx: &TenantTx,
    entry: &EntryRow,
    reason: &str,
    actor: Actor,
) -> Result<Option<EntryRow>, DbErr> {
    let lines = repo::lines_of(tx, &[entry.id]).await?;
    let original = repo::as_entry(entry, &lines);
    let reversal = book::reverse(&original, &format!("reversal of {}: {reason}", entry.memo));
    let stored = repo::insert(
        tx,
        vec![NewEntry {
            kind: book_kind(&entry.kind),
            entry: reversal,
            source: (SourceKind::Entry, entry.id),
            order: entry.order_id.map(OrderId),
            reverses: Some(entry.id),
            dedupe_key: format!("reversal:{}", entry.id),
            effective_at: Utc::now(),
            actor,
        }],
    )
    .await?;
    Ok(stored.into_iter().next())
}

/// The static name of a stored kind (a reversal keeps the kind it reverses).
fn book_kind(kind: &str) -> &'static str {
    [
        "sale",
        "fee",
        "refund",
        "credit_refund",
        "label",
        "chargeback",
        "payout",
        "adjustment",
    ]
    .into_iter()
    .find(|k| *k == kind)
    .unwrap_or("adjustment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_capture_books_the_parts_in_proportion() {
        let Some(Operation::Sale {
            goods,
            discounts,
            shipping,
            tax,
            total,
        }) = sale_split(1_100_000, 100_000, 100_000, 100_000, 550_000)
        else {
            panic!("no sale");
        };
        assert_eq!(
            (discounts, shipping, tax, total),
            (50_000, 50_000, 50_000, 550_000)
        );
        assert_eq!(goods, 500_000);
        assert_eq!(sale_split(0, 0, 0, 0, 10), None);
        assert_eq!(sale_split(10, 0, 0, 0, 0), None);
    }

    #[test]
    fn more_captured_than_the_total_books_the_total() {
        assert_eq!(
            sale_split(1000, 0, 0, 0, 5000),
            Some(Operation::Sale {
                goods: 1000,
                discounts: 0,
                shipping: 0,
                tax: 0,
                total: 1000
            })
        );
    }
}
