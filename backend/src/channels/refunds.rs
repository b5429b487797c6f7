//! Refunds through the sales channel that took the payment (the run of
//! [`RefundThroughChannel`]): Shopify (calculate, then create the refund with the transactions
//! it suggests, restock following the return's decision) and WooCommerce (an order refund
//! with `api_refund`, so its payment gateway moves the money).
//!
//! Neither API takes an idempotency key, so each refund carries Orderflow's key in its note
//! (`[orderflow:<key>]`), and the order's refunds are read before one is created: a retry, or
//! a run after a crash, finds the refund it made instead of making a second.

use std::sync::Arc;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Platform;
use super::connections::open_secrets;
use super::repo;
use super::store::{self, Failure, Store, answer_json, id_text};
use crate::domain::money::amount_from_units;
use crate::domain::{ConnectionId, OrderId, TenantId};
use crate::jobs::{Claim, JobError, Run};
use crate::lifecycle::refund::provider::ProviderOutcome;
use crate::lifecycle::refund::remote::{self, MAX_TRIES, RefundThroughChannel, backoff};
use crate::lifecycle::refund::repo::{Refund, provider_key};
use crate::lifecycle::returns::repo as returns;
use crate::order::repo::{self as orders, Order, OrderLine};
use crate::state::AppState;
use crate::tenancy::TenantTx;

impl Run for RefundThroughChannel {
    async fn run(self, state: &Arc<AppState>, claim: Claim) -> Result<(), JobError> {
        run(state, claim.tenant, self)
            .await
            .map_err(|e| e.to_string())
    }
}

/// One line given back, by the channel's line id.
#[derive(Clone, Debug, PartialEq)]
pub struct LineBack {
    pub line_id: String,
    pub quantity: i64,
    /// Goods value of these units, before tax.
    pub value: Decimal,
    pub restock: bool,
}

/// What to refund, in the channel's terms.
#[derive(Clone, Debug)]
pub struct ChannelRefund {
    /// `[orderflow:<key>]` goes in the note: how a retry finds it.
    pub key: String,
    pub order: String,
    pub currency: String,
    pub amount: Decimal,
    pub shipping: Decimal,
    pub note: String,
    pub lines: Vec<LineBack>,
}

impl ChannelRefund {
    fn marker(&self) -> String {
        format!("[orderflow:{}]", self.key)
    }

    fn note(&self) -> String {
        format!("{} {}", self.note, self.marker()).trim().to_owned()
    }
}

/// A made refund: the channel's id, and what staff should know.
#[derive(Debug, PartialEq, Eq)]
pub struct Made {
    pub id: String,
    pub note: Option<String>,
}

async fn run(
    state: &Arc<AppState>,
    tenant: TenantId,
    job: RefundThroughChannel,
) -> Result<(), sea_orm::DbErr> {
    let Some(row) = remote::pending(state, tenant, job.refund).await? else {
        return Ok(());
    };
    let tx = TenantTx::begin(&state.db, tenant).await?;
    let order = orders::get(&tx, OrderId(row.order_id)).await?;
    let connection = match order.as_ref().and_then(|o| o.connection_id) {
        Some(id) => repo::connection(&tx, ConnectionId(id)).await?,
        None => None,
    };
    let lines = orders::lines_of(&tx, &[OrderId(row.order_id)]).await?;
    let returned = match row.return_id {
        Some(r) => returns::lines_of(&tx, &[r]).await?,
        None => Vec::new(),
    };
    tx.commit().await?;
    let title = |p: Option<Platform>| p.map(Platform::label).unwrap_or("the channel");
    let (Some(order), Some(connection)) = (order, connection) else {
        let why = "the order's channel connection is gone; refund it where it was paid".into();
        return remote::settle(state, tenant, row.id, Err(why), "channel").await;
    };
    let platform = Platform::parse(&connection.platform);
    let by = title(platform);
    let secrets = match open_secrets(&state.sealer, &connection) {
        Ok(s) => s,
        Err(_) => {
            let why = format!("the {by} connection's credentials cannot be opened");
            return remote::settle(state, tenant, row.id, Err(why), by).await;
        }
    };
    let ask = ask_of(&row, &order, &lines, &returned);
    let shop = Store {
        client: &state.http,
        root: store::root(&secrets.credentials, &connection.shop_domain),
        credentials: &secrets.credentials,
    };
    let made = match platform {
        Some(Platform::Shopify) => shop.refund_on_shopify(&order.external_id, &ask).await,
        Some(Platform::Woocommerce) => shop.refund_on_woocommerce(&order.external_id, &ask).await,
        _ => Err(Failure::Refused(format!(
            "{by} orders cannot be refunded through the channel"
        ))),
    };
    match made {
        Ok(m) => {
            let done = Ok(ProviderOutcome::Succeeded {
                reference: m.id,
                note: m.note,
            });
            remote::settle(state, tenant, row.id, done, by).await
        }
        Err(Failure::Refused(why)) => remote::settle(state, tenant, row.id, Err(why), by).await,
        Err(Failure::Unavailable(why)) => {
            let tries = job.round + 1;
            if tries >= MAX_TRIES {
                let why = format!(
                    "{by} could not be reached over {tries} tries ({why}); look for a refund \
                     noted {} in {by} before refunding again",
                    ask.marker()
                );
                return remote::settle(state, tenant, row.id, Err(why), by).await;
            }
            let next = RefundThroughChannel {
                round: tries,
                ..job
            };
            let note = format!("waiting for {by} (try {tries}): {why}");
            remote::again(
                state,
                tenant,
                next,
                backoff(tries, None),
                Some((row.id, &note)),
            )
            .await
        }
    }
}

/// The refund in the channel's terms: a return's lines by the channel's line ids (restocked
/// where the return restocked them), or an amount alone.
pub fn ask_of(
    row: &Refund,
    order: &Order,
    lines: &[OrderLine],
    returned: &[entity::return_lines::Model],
) -> ChannelRefund {
    let money = |u: i64| amount_from_units(u, &row.currency);
    let lines = returned
        .iter()
        .filter_map(|r| {
            let line = lines
                .iter()
                .find(|l| l.sku.as_deref() == Some(r.sku.as_str()))?;
            let quantity = i64::from(r.received_quantity.unwrap_or(r.quantity));
            let line_id = line.external_id.clone()?;
            (quantity > 0).then(|| LineBack {
                line_id,
                quantity,
                value: money(r.unit_value_units * quantity),
                restock: r.disposition.as_deref() == Some("restock"),
            })
        })
        .collect();
    ChannelRefund {
        key: provider_key(row),
        order: order.name.clone(),
        currency: row.currency.clone(),
        amount: money(row.amount_units),
        shipping: money(row.shipping_units),
        note: row.reason.clone().unwrap_or_default(),
        lines,
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// Shopify's body for calculate (`restock` asked as `return`) and create.
pub fn shopify_body(ask: &ChannelRefund, calculated: Option<&Value>) -> Result<Value, String> {
    let located = |line: &LineBack| {
        calculated.and_then(|c| {
            c["refund_line_items"]
                .as_array()?
                .iter()
                .find(|l| id_text(&l["line_item_id"]).as_deref() == Some(line.line_id.as_str()))
                .map(|l| l["location_id"].clone())
                .filter(|l| !l.is_null())
        })
    };
    let lines: Vec<Value> = ask
        .lines
        .iter()
        .map(|l| {
            let mut v = json!({
                "line_item_id": l.line_id.parse::<u64>().map(Value::from).unwrap_or(json!(l.line_id)),
                "quantity": l.quantity,
                "restock_type": if l.restock { "return" } else { "no_restock" },
            });
            if let Some(loc) = located(l) {
                v["location_id"] = loc;
            }
            v
        })
        .collect();
    let mut refund = json!({
        "currency": ask.currency,
        "shipping": { "amount": ask.shipping.to_string() },
        "refund_line_items": lines,
    });
    let Some(calculated) = calculated else {
        return Ok(json!({ "refund": refund }));
    };
    // Our amount (less what the return withheld), over the transactions Shopify suggests,
    // each up to what it can still refund.
    let mut left = ask.amount;
    let mut transactions = Vec::new();
    for t in calculated["transactions"].as_array().into_iter().flatten() {
        if left <= Decimal::ZERO {
            break;
        }
        let most = decimal(&t["maximum_refundable"])
            .or_else(|| decimal(&t["amount"]))
            .unwrap_or_default();
        let take = left.min(most);
        if take <= Decimal::ZERO {
            continue;
        }
        transactions.push(json!({
            "parent_id": t["parent_id"],
            "amount": take.to_string(),
            "kind": "refund",
            "gateway": t["gateway"],
        }));
        left -= take;
    }
    if left > Decimal::ZERO {
        return Err(format!(
            "Shopify can refund at most {} {} of order {} now, less than the {} {} asked",
            ask.amount - left,
            ask.currency,
            ask.order,
            ask.amount,
            ask.currency
        ));
    }
    refund["transactions"] = json!(transactions);
    // Orderflow emails the shopper itself.
    refund["notify"] = json!(false);
    refund["note"] = json!(ask.note());
    Ok(json!({ "refund": refund }))
}

/// WooCommerce's body: the amount, the lines (restocked by the gateway's `api_restock` when
/// the return restocked any), and the gateway asked to move the money.
pub fn woocommerce_body(ask: &ChannelRefund) -> Value {
    json!({
        "amount": ask.amount.to_string(),
        "reason": ask.note(),
        "api_refund": true,
        "api_restock": ask.lines.iter().any(|l| l.restock),
        "line_items": ask.lines.iter().map(|l| json!({
            "id": l.line_id,
            "quantity": l.quantity,
            "refund_total": l.value.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// The refund among `refunds` that carries `marker` in its note (Shopify) or reason (WooCommerce).
fn made_before<'a>(refunds: &'a Value, field: &str, marker: &str) -> Option<&'a Value> {
    refunds
        .as_array()?
        .iter()
        .find(|r| r[field].as_str().is_some_and(|n| n.contains(marker)))
}

/// A WooCommerce refund as made: its id, and a word for staff when its gateway moved nothing
/// (bank transfer, cash on delivery: the refund is recorded there, the money is where it was).
fn woo_made(refund: &Value) -> Result<Made, Failure> {
    let id = id_text(&refund["id"])
        .ok_or_else(|| Failure::Refused("WooCommerce's answer has no refund id".into()))?;
    let note = (refund["refunded_payment"] == json!(false)).then(|| {
        format!(
            "WooCommerce recorded refund {id}, but its payment gateway did not return the \
             money: pay the shopper back in the gateway"
        )
    });
    Ok(Made { id, note })
}

impl Store<'_> {
    async fn refund_on_shopify(&self, order: &str, ask: &ChannelRefund) -> Result<Made, Failure> {
        if order.is_empty() || !order.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::Refused(format!(
                "{order:?} is not a Shopify order id"
            )));
        }
        let list = self.shopify(Method::GET, &format!("orders/{order}/refunds.json"))?;
        let res = self
            .client
            .exchange("Shopify GET refunds", &|| {
                list.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await?;
        let refunds = answer_json("Shopify GET refunds", &res)?;
        if let Some(id) =
            made_before(&refunds["refunds"], "note", &ask.marker()).and_then(|r| id_text(&r["id"]))
        {
            return Ok(Made { id, note: None });
        }
        let calc_body = shopify_body(ask, None).map_err(Failure::Refused)?;
        let calc = self.shopify(
            Method::POST,
            &format!("orders/{order}/refunds/calculate.json"),
        )?;
        let res = self
            .client
            .exchange("Shopify refund calculate", &|| {
                calc.try_clone()
                    .unwrap_or_else(|| unreachable!())
                    .json(&calc_body)
            })
            .await?;
        let calculated = answer_json("Shopify refund calculate", &res)?;
        let body = shopify_body(ask, Some(&calculated["refund"])).map_err(Failure::Refused)?;
        // Sent once: a lost answer is found by its note on the next run.
        let create = self
            .shopify(Method::POST, &format!("orders/{order}/refunds.json"))?
            .json(&body);
        let res = self
            .client
            .once("Shopify refund", create)
            .await
            .map_err(|(e, _)| Failure::from(e))?;
        let made = answer_json("Shopify refund", &res)?;
        let id = id_text(&made["refund"]["id"])
            .ok_or_else(|| Failure::Refused("Shopify's answer has no refund id".into()))?;
        Ok(Made { id, note: None })
    }

    async fn refund_on_woocommerce(
        &self,
        order: &str,
        ask: &ChannelRefund,
    ) -> Result<Made, Failure> {
        if order.is_empty() || !order.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::Refused(format!(
                "{order:?} is not a WooCommerce order id"
            )));
        }
        let list = self.woo(Method::GET, &format!("orders/{order}/refunds"))?;
        let res = self
            .client
            .exchange("WooCommerce GET refunds", &|| {
                list.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await?;
        let refunds = answer_json("WooCommerce GET refunds", &res)?;
        if let Some(made) = made_before(&refunds, "reason", &ask.marker()) {
            return woo_made(made);
        }
        let create = self
            .woo(Method::POST, &format!("orders/{order}/refunds"))?
            .json(&woocommerce_body(ask));
        let res = self
            .client
            .once("WooCommerce refund", create)
            .await
            .map_err(|(e, _)| Failure::from(e))?;
        woo_made(&answer_json("WooCommerce refund", &res)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::store::refusal_words;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn ask(amount: &str) -> ChannelRefund {
        ChannelRefund {
            key: "return:abc".into(),
            order: "#1001".into(),
            currency: "USD".into(),
            amount: amount.parse().unwrap(),
            shipping: Decimal::ZERO,
            note: "return R-1".into(),
            lines: vec![LineBack {
                line_id: "518995019".into(),
                quantity: 1,
                value: "199.00".parse().unwrap(),
                restock: true,
            }],
        }
    }

    #[test]
    fn shopify_is_asked_to_calculate_then_refunds_over_the_suggested_transactions() {
        let recorded = fixture("shopify/writeback/rest_2026-07_refund_calculate_line_items.json");
        let calculated = &recorded["response"]["body"]["refund"];
        let first = shopify_body(&ask("41.94"), None).unwrap();
        assert_eq!(
            first["refund"]["refund_line_items"][0]["line_item_id"],
            518995019
        );
        assert_eq!(
            first["refund"]["refund_line_items"][0]["restock_type"],
            "return"
        );
        assert!(first["refund"]["transactions"].is_null());
        let create = shopify_body(&ask("41.94"), Some(calculated)).unwrap();
        let t = &create["refund"]["transactions"][0];
        assert_eq!(
            (
                t["parent_id"].as_u64(),
                t["amount"].as_str(),
                t["gateway"].as_str(),
                t["kind"].as_str()
            ),
            (
                Some(801038806),
                Some("41.94"),
                Some("bogus"),
                Some("refund")
            )
        );
        assert_eq!(create["refund"]["notify"], false);
        assert_eq!(
            create["refund"]["note"],
            "return R-1 [orderflow:return:abc]"
        );
        // More than Shopify can give back is refused in words, before anything is sent.
        let too_much = shopify_body(&ask("50.00"), Some(calculated)).unwrap_err();
        assert!(too_much.contains("at most 41.94 USD"), "{too_much}");
        // The recorded refund answers with its id.
        let made = fixture("shopify/writeback/rest_2026-07_refund_create_line_items_restock.json");
        assert_eq!(
            id_text(&made["response"]["body"]["refund"]["id"]).as_deref(),
            Some("929361472")
        );
    }

    #[test]
    fn woocommerce_refunds_through_its_gateway_and_a_retry_finds_the_refund_by_its_note() {
        let body = woocommerce_body(&ask("30.00"));
        assert_eq!(body["api_refund"], true);
        assert_eq!(body["api_restock"], true);
        assert_eq!(body["amount"], "30.00");
        assert_eq!(body["line_items"][0]["id"], "518995019");
        let recorded = fixture("woocommerce/writeback/order_refund_create_723.json");
        let mut made = recorded["response"]["body"].clone();
        assert_eq!(id_text(&made["id"]).as_deref(), Some("726"));
        let list = json!([made.clone()]);
        assert_eq!(made_before(&list, "reason", "[orderflow:return:abc]"), None);
        made["reason"] = json!("return R-1 [orderflow:return:abc]");
        let list = json!([made]);
        let found = woo_made(made_before(&list, "reason", "[orderflow:return:abc]").unwrap());
        assert_eq!(found.as_ref().map(|m| m.id.as_str()), Ok("726"));
        assert!(
            found
                .unwrap()
                .note
                .unwrap()
                .contains("did not return the money")
        );
        assert_eq!(
            refusal_words(&json!({ "errors": { "base": ["Refund amount is too large"] } }))
                .as_deref(),
            Some("base Refund amount is too large")
        );
    }
}
