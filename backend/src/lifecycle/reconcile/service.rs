//! Importing a processor's report: each line matched to our orders and refunds, fees,
//! chargebacks and payouts booked, the rest kept as discrepancies until someone resolves them.
//! A transaction imported before is recorded as a duplicate and booked nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entity::reconciliation_items;
use sea_orm::{ActiveValue::Set, DbErr};
use serde_json::json;

use super::matching::{self, KnownRefund, OrderFacts, Verdict};
use super::repo::{self, DISCREPANCY, DUPLICATE, Item, MATCHED, Run};
use super::stripe::{self, Line, Report, Unreadable};
use crate::domain::OrderId;
use crate::lifecycle::ledger::book::Operation;
use crate::lifecycle::ledger::repo::SourceKind;
use crate::lifecycle::ledger::service::{self as ledger, Posting, captured_units};
use crate::lifecycle::refund::repo as refunds;
use crate::order::repo::Order;
use crate::tenancy::{Actor, TenantTx};

/// Largest report accepted in one import.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    StripeCsv,
    StripeJson,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::StripeCsv => "stripe_csv",
            Format::StripeJson => "stripe_json",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Unreadable(Unreadable),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Ids a line may name its payment by.
fn references(line: &Line, report: &Report) -> Vec<String> {
    let mut refs: Vec<String> = [&line.payment_intent_id, &line.charge_id, &line.source_id]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    // A dispute's description names the charge ("Chargeback withdrawal for ch_…").
    if let Some(d) = &line.description {
        refs.extend(
            d.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("ch_") || w.starts_with("pi_") || w.starts_with("py_"))
                .map(str::to_owned),
        );
    }
    let mapped: Vec<String> = refs
        .iter()
        .filter_map(|r| report.intents.get(r).cloned())
        .collect();
    refs.extend(mapped);
    refs.sort();
    refs.dedup();
    refs
}

async fn orders_by(tx: &TenantTx, refs: &[String], names: &[String]) -> Result<Vec<Order>, DbErr> {
    crate::order::repo::by_payment_reference(tx, refs, names).await
}

/// The order a line is about: by its payment's id, else by the order the metadata names
/// (when exactly one order answers to it: names repeat across channels).
fn order_of<'a>(line: &Line, refs: &[String], orders: &'a [Order]) -> Option<&'a Order> {
    if let Some(o) = orders.iter().find(|o| {
        o.payment_reference
            .as_ref()
            .is_some_and(|r| refs.contains(r))
    }) {
        return Some(o);
    }
    let r = line.order_ref.as_deref()?.trim();
    let mut named = orders.iter().filter(|o| {
        o.name == r
            || o.external_id == r
            || o.name.trim_start_matches('#') == r.trim_start_matches('#')
    });
    let first = named.next()?;
    named.all(|o| o.id == first.id).then_some(first)
}

pub struct Imported {
    pub run: Run,
    pub items: Vec<Item>,
}

pub async fn import(
    tx: &TenantTx,
    format: Format,
    content: &str,
    file_name: Option<String>,
    actor: Actor,
) -> Result<Imported, ImportError> {
    let report = match format {
        Format::StripeCsv => stripe::read_csv(content),
        Format::StripeJson => stripe::read_json(content),
    }
    .map_err(ImportError::Unreadable)?;
    let refs: Vec<Vec<String>> = report
        .lines
        .iter()
        .map(|l| references(l, &report))
        .collect();
    let all_refs: Vec<String> = refs.iter().flatten().cloned().collect();
    let names: Vec<String> = report
        .lines
        .iter()
        .filter_map(|l| l.order_ref.clone())
        .flat_map(|r| {
            let r = r.trim().to_owned();
            [r.clone(), format!("#{}", r.trim_start_matches('#'))]
        })
        .collect();
    let found = orders_by(tx, &all_refs, &names).await?;
    let ids: Vec<OrderId> = found.iter().map(|o| OrderId(o.id)).collect();
    let known_refunds = refunds::of_orders(tx, &ids).await?;
    let refund_ids: Vec<uuid::Uuid> = known_refunds.iter().map(|r| r.id).collect();
    let mut matched: HashSet<uuid::Uuid> = repo::matched_refunds(tx, &refund_ids)
        .await?
        .into_iter()
        .collect();
    let txn_ids: Vec<String> = report
        .lines
        .iter()
        .map(|l| l.transaction_id.clone())
        .collect();
    let before: HashMap<String, uuid::Uuid> = repo::imported(tx, &txn_ids)
        .await?
        .into_iter()
        .map(|i| (i.transaction_id, i.run_id))
        .collect();

    let now = Utc::now();
    let run_id = uuid::Uuid::now_v7();
    let mut items = Vec::new();
    let mut postings = Vec::new();
    let mut seen = HashSet::new();
    // Net of itemized lines per payout, for payouts the report has no line of its own for.
    let mut payout_nets: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut payout_lines = HashSet::new();
    for (line, refs) in report.lines.iter().zip(&refs) {
        if line.category == "payout" {
            payout_lines.insert(
                line.payout_id
                    .clone()
                    .or_else(|| line.source_id.clone())
                    .unwrap_or_default(),
            );
        }
        let duplicate = before
            .get(&line.transaction_id)
            .map(|run| format!("already imported in run {run}"))
            .or_else(|| {
                (!seen.insert(line.transaction_id.clone()))
                    .then(|| "appears twice in this report".to_owned())
            });
        // A payout's lines add up to it (counting a transaction once however it repeats).
        if let (true, Some(p), false) = (
            report.whole_payouts && line.category != "payout",
            &line.payout_id,
            duplicate.as_deref() == Some("appears twice in this report"),
        ) {
            *payout_nets
                .entry((p.clone(), line.currency.clone()))
                .or_default() += line.net;
        }
        let order = order_of(line, refs, &found);
        let verdict = match &duplicate {
            Some(why) => Verdict {
                discrepancy: None,
                order: order.map(|o| o.id),
                refund: None,
                expected: None,
                message: format!("{} {why}: nothing booked", line.transaction_id),
                postings: Vec::new(),
            },
            None => {
                let facts = order.map(|o| OrderFacts {
                    id: o.id,
                    name: o.name.clone(),
                    currency: o.currency.to_string(),
                    captured: captured_units(o).min(o.total.units().max(0)),
                    refunds: known_refunds
                        .iter()
                        // Money refunds only: store credit never went through the processor.
                        .filter(|r| {
                            r.order_id == o.id
                                && r.status == refunds::SUCCEEDED
                                && r.method
                                    == crate::lifecycle::refund::service::Method::Original.as_str()
                        })
                        .map(|r| KnownRefund {
                            id: r.id,
                            amount: r.amount_units,
                            provider_ref: r.provider_ref.clone(),
                            matched: matched.contains(&r.id),
                        })
                        .collect(),
                });
                matching::decide(line, facts.as_ref())
            }
        };
        if let Some(r) = verdict.refund {
            matched.insert(r);
        }
        for (op, key) in &verdict.postings {
            postings.push(posting(op.clone(), key.clone(), line, order, run_id, actor));
        }
        items.push(Item {
            tenant_id: tx.tenant().uuid(),
            id: uuid::Uuid::now_v7(),
            run_id,
            line_no: i32::try_from(line.line_no).unwrap_or(i32::MAX),
            transaction_id: line.transaction_id.clone(),
            category: line.category.clone(),
            source_id: line.source_id.clone(),
            description: line.description.clone(),
            currency: line.currency.clone(),
            gross_units: line.gross,
            fee_units: line.fee,
            net_units: line.net,
            occurred_at: line.occurred_at,
            payout_id: line.payout_id.clone(),
            status: if duplicate.is_some() {
                DUPLICATE
            } else if verdict.discrepancy.is_some() {
                DISCREPANCY
            } else {
                MATCHED
            }
            .to_owned(),
            order_id: verdict.order,
            refund_id: verdict.refund,
            expected_units: verdict.expected,
            discrepancy: verdict.discrepancy.map(|d| d.as_str().to_owned()),
            message: Some(verdict.message),
            resolution: None,
            resolution_note: None,
            resolved_by: None,
            resolved_at: None,
            raw: line.raw.clone(),
            created_at: now,
        });
    }
    for ((payout, currency), net) in &payout_nets {
        if payout_lines.contains(payout) || *net <= 0 {
            continue;
        }
        postings.push(Posting {
            op: Operation::Payout { amount: *net },
            currency: currency.clone(),
            memo: format!("payout {payout}"),
            source: (SourceKind::Payout, run_id),
            order: None,
            key: format!("payout:{payout}"),
            at: now,
            actor,
        });
    }
    let summary = summarise(&items);
    let run = repo::insert_run(
        tx,
        Run {
            tenant_id: tx.tenant().uuid(),
            id: run_id,
            provider: "stripe".into(),
            format: format.as_str().into(),
            file_name,
            payout_id: payout_nets
                .keys()
                .map(|(p, _)| p.clone())
                .chain(payout_lines.iter().cloned())
                .find(|p| !p.is_empty()),
            summary,
            actor_kind: actor.kind().into(),
            actor_id: actor.id(),
            created_at: now,
        },
    )
    .await?;
    repo::insert_items(tx, items.clone()).await?;
    ledger::post(tx, postings).await?;
    Ok(Imported { run, items })
}

fn posting(
    op: Operation,
    key: String,
    line: &Line,
    order: Option<&Order>,
    run: uuid::Uuid,
    actor: Actor,
) -> Posting {
    let (source, memo) = match (&op, order) {
        (Operation::Payout { .. }, _) => (
            (SourceKind::Payout, run),
            format!("{} ({})", key.replace(':', " "), line.transaction_id),
        ),
        (_, Some(o)) => (
            (SourceKind::Order, o.id),
            format!("{} for {} ({})", op.kind(), o.name, line.transaction_id),
        ),
        (_, None) => (
            (SourceKind::Reconciliation, run),
            format!("{} ({})", op.kind(), line.transaction_id),
        ),
    };
    Posting {
        op,
        currency: line.currency.clone(),
        memo,
        source,
        order: order.map(|o| OrderId(o.id)),
        key,
        at: line.occurred_at.unwrap_or_else(Utc::now),
        actor,
    }
}

fn summarise(items: &[Item]) -> serde_json::Value {
    let count = |s: &str| items.iter().filter(|i| i.status == s).count();
    let mut per_currency: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    for i in items.iter().filter(|i| i.status != DUPLICATE) {
        let t = per_currency.entry(i.currency.as_str()).or_default();
        t.0 += i.gross_units;
        t.1 += i.fee_units;
        t.2 += i.net_units;
    }
    json!({
        "lines": items.len(),
        "matched": count(MATCHED),
        "discrepancies": count(DISCREPANCY),
        "duplicates": count(DUPLICATE),
        "totals": per_currency
            .into_iter()
            .map(|(c, (g, f, n))| json!({ "currency": c, "gross": g, "fee": f, "net": n }))
            .collect::<Vec<_>>(),
    })
}

/// How a discrepancy was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// The difference is explained; nothing to book.
    Accepted,
    /// The processor's figure stands: the difference is booked as an adjustment.
    WrittenOff,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Accepted => "accepted",
            Resolution::WrittenOff => "written_off",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("no such discrepancy")]
    NotFound,
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Settles a discrepancy, once; a write-off books what makes our clearing account agree
/// with the processor.
pub async fn resolve(
    tx: &TenantTx,
    item: uuid::Uuid,
    resolution: Resolution,
    note: String,
    actor: Actor,
) -> Result<Item, ResolveError> {
    let Some(i) = repo::item_for_update(tx, item).await? else {
        return Err(ResolveError::NotFound);
    };
    if i.status != DISCREPANCY {
        return Err(ResolveError::Refused(format!(
            "this line is {}, not a discrepancy",
            i.status
        )));
    }
    if let Some(r) = &i.resolution {
        return Err(ResolveError::Refused(format!("already resolved ({r})")));
    }
    if resolution == Resolution::WrittenOff {
        // What the processor moved that our books do not have: for a mismatch, the
        // difference (its fee was booked); otherwise the whole net.
        let amount = match (i.discrepancy.as_deref(), i.expected_units) {
            (Some("amount_mismatch"), Some(expected)) => i.gross_units - expected,
            _ => i.net_units,
        };
        if amount != 0 {
            ledger::post(
                tx,
                vec![Posting {
                    op: Operation::Adjustment { amount },
                    currency: i.currency.clone(),
                    memo: format!(
                        "written off: {} ({}){}",
                        i.transaction_id,
                        i.discrepancy.as_deref().unwrap_or("discrepancy"),
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(": {note}")
                        }
                    ),
                    source: (SourceKind::Reconciliation, i.run_id),
                    order: i.order_id.map(OrderId),
                    key: format!("writeoff:{}", i.id),
                    at: Utc::now(),
                    actor,
                }],
            )
            .await?;
        }
    }
    Ok(repo::update_item(
        tx,
        reconciliation_items::ActiveModel {
            tenant_id: Set(i.tenant_id),
            id: Set(i.id),
            resolution: Set(Some(resolution.as_str().into())),
            resolution_note: Set(Some(note).filter(|n| !n.is_empty())),
            resolved_by: Set(actor.id()),
            resolved_at: Set(Some(Utc::now())),
            ..Default::default()
        },
    )
    .await?)
}
