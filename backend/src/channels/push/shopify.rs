//! Shopify hears of a parcel: a fulfilment of the fulfilment order lines it holds, with its
//! tracking; then, when the carrier has it, an `in_transit` event on that fulfilment.
//!
//! A fulfilment is created once: the order's fulfilments are read first and one that already
//! carries the parcel's tracking number is taken (a run after a lost answer), and the create
//! itself is sent once per run, never retried blindly.

use reqwest::Method;
use serde_json::json;

use super::parcel::{
    ParcelPush, live_fulfilments, shopify_existing, shopify_fulfillment, shopify_plan,
};
use super::{
    CANCEL, FULFILLMENT, IN_TRANSIT, Outcome, SENT, Scene, VOID, not_taken, numeric,
    our_fulfilments,
};
use crate::channels::store::{Failure, Store, answer_json, id_text};
use crate::lifecycle::state::OrderState;

/// Sends a push to Shopify.
pub(super) async fn send(
    store: &Store<'_>,
    s: &Scene,
    parcel: Option<&ParcelPush>,
) -> Result<Outcome, Failure> {
    let order = &s.order.external_id;
    match (s.push.kind.as_str(), parcel) {
        (FULFILLMENT, Some(p)) => store.shopify_fulfil(p, s.connection.notify_customer).await,
        (IN_TRANSIT, Some(p)) => {
            let ours = s.others.iter().find(|o| {
                o.kind == FULFILLMENT && o.shipment_id == s.push.shipment_id && o.state == SENT
            });
            match ours.and_then(|f| f.remote_id.as_deref()) {
                Some(id) => store.shopify_in_transit(&p.order, id).await,
                None => Ok(Outcome::Skipped(
                    "Shopify holds no fulfilment of ours for this parcel".into(),
                )),
            }
        }
        (VOID, _) => {
            let ours = our_fulfilments(s, s.push.shipment_id);
            store.shopify_cancel_fulfilments(order, &ours).await
        }
        (CANCEL, _) => {
            let reason = match (s.order.state, &s.order.fraud_decision) {
                (OrderState::Rejected, Some(_)) => "fraud",
                (OrderState::Rejected, None) => "declined",
                _ => "other",
            };
            let ours = our_fulfilments(s, None);
            store.shopify_cancel(order, reason, &ours).await
        }
        _ => Ok(not_taken(s)),
    }
}

impl Store<'_> {
    pub(super) async fn shopify_fulfil(
        &self,
        p: &ParcelPush,
        notify_customer: bool,
    ) -> Result<Outcome, Failure> {
        let order = numeric(&p.order, "Shopify")?;
        let known = self.shopify_order(order).await?;
        if let Some(id) = shopify_existing(&known["order"]["fulfillments"], &p.tracking_number) {
            return Ok(Outcome::Sent {
                remote_id: Some(id.clone()),
                answer: format!("Shopify already had fulfilment {id} for this tracking number"),
            });
        }
        let list = self.shopify(
            Method::GET,
            &format!("orders/{order}/fulfillment_orders.json"),
        )?;
        let res = self
            .client
            .exchange("Shopify GET fulfillment orders", &|| {
                list.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await?;
        let fos = answer_json("Shopify GET fulfillment orders", &res)?;
        let plan = shopify_plan(&fos["fulfillment_orders"], &p.lines);
        if plan.is_empty() {
            return Ok(Outcome::Skipped(
                "Shopify has nothing of this parcel left to fulfil (fulfilled there already, \
                 or its lines are not on an open fulfilment order)"
                    .into(),
            ));
        }
        let create = self
            .shopify(Method::POST, "fulfillments.json")?
            .json(&shopify_fulfillment(p, plan, notify_customer));
        let res = self
            .client
            .once("Shopify fulfilment", create)
            .await
            .map_err(|(e, _)| Failure::from(e))?;
        let made = answer_json("Shopify fulfilment", &res)?;
        let id = id_text(&made["fulfillment"]["id"])
            .ok_or_else(|| Failure::Refused("Shopify's answer has no fulfilment id".into()))?;
        Ok(Outcome::Sent {
            answer: format!(
                "Shopify fulfilment {id} ({})",
                made["fulfillment"]["status"].as_str().unwrap_or("made")
            ),
            remote_id: Some(id),
        })
    }

    /// The order as Shopify holds it: whether it is cancelled, and its fulfilments.
    async fn shopify_order(&self, order: &str) -> Result<serde_json::Value, Failure> {
        let read = self.shopify(
            Method::GET,
            &format!("orders/{order}.json?fields=id,cancelled_at,fulfillments"),
        )?;
        let res = self
            .client
            .exchange("Shopify GET order", &|| {
                read.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await?;
        answer_json("Shopify GET order", &res)
    }

    /// Cancels those of `ours` (fulfilment ids) Shopify still holds live; their ids.
    async fn cancel_live(
        &self,
        known: &serde_json::Value,
        ours: &[String],
    ) -> Result<Vec<String>, Failure> {
        let live = live_fulfilments(&known["order"]["fulfillments"], ours);
        for id in &live {
            let id = numeric(id, "Shopify")?;
            let post = self.shopify(Method::POST, &format!("fulfillments/{id}/cancel.json"))?;
            let res = self
                .client
                .exchange("Shopify fulfilment cancel", &|| {
                    post.try_clone().unwrap_or_else(|| unreachable!())
                })
                .await?;
            answer_json("Shopify fulfilment cancel", &res)?;
        }
        Ok(live)
    }

    /// A voided label: the fulfilments Orderflow made for its parcel are cancelled.
    pub(super) async fn shopify_cancel_fulfilments(
        &self,
        order: &str,
        ours: &[String],
    ) -> Result<Outcome, Failure> {
        let order = numeric(order, "Shopify")?;
        let known = self.shopify_order(order).await?;
        let cancelled = self.cancel_live(&known, ours).await?;
        if cancelled.is_empty() {
            return Ok(Outcome::Skipped(
                "Shopify holds no live fulfilment of this parcel".into(),
            ));
        }
        Ok(Outcome::Sent {
            answer: format!("Shopify fulfilment {} cancelled", cancelled.join(", ")),
            remote_id: cancelled.first().cloned(),
        })
    }

    /// The order cancelled in Orderflow: its live fulfilments of ours cancelled first (Shopify
    /// cancels no order with fulfilments), then the order, with the reason, Shopify's email
    /// to the shopper off (Orderflow tells them) and the units restocked (they never left).
    pub(super) async fn shopify_cancel(
        &self,
        order: &str,
        reason: &str,
        ours: &[String],
    ) -> Result<Outcome, Failure> {
        let order = numeric(order, "Shopify")?;
        let known = self.shopify_order(order).await?;
        if !known["order"]["cancelled_at"].is_null() {
            return Ok(Outcome::Sent {
                remote_id: Some(order.to_owned()),
                answer: "Shopify had the order cancelled already".into(),
            });
        }
        self.cancel_live(&known, ours).await?;
        let cancel = self
            .shopify(Method::POST, &format!("orders/{order}/cancel.json"))?
            .json(&json!({ "reason": reason, "email": false, "restock": true }));
        let res = self
            .client
            .once("Shopify order cancel", cancel)
            .await
            .map_err(|(e, _)| Failure::from(e))?;
        let made = answer_json("Shopify order cancel", &res)?;
        Ok(Outcome::Sent {
            remote_id: Some(order.to_owned()),
            answer: made["notice"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Shopify cancelled order {order} ({reason})")),
        })
    }

    /// The carrier has the parcel: Shopify's fulfilment moves to in transit.
    pub(super) async fn shopify_in_transit(
        &self,
        order: &str,
        fulfillment: &str,
    ) -> Result<Outcome, Failure> {
        let order = numeric(order, "Shopify")?;
        let fulfillment = numeric(fulfillment, "Shopify")?;
        let post = self.shopify(
            Method::POST,
            &format!("orders/{order}/fulfillments/{fulfillment}/events.json"),
        )?;
        let body = json!({ "event": { "status": "in_transit" } });
        let res = self
            .client
            .exchange("Shopify fulfilment event", &|| {
                post.try_clone()
                    .unwrap_or_else(|| unreachable!())
                    .json(&body)
            })
            .await?;
        let made = answer_json("Shopify fulfilment event", &res)?;
        Ok(Outcome::Sent {
            remote_id: id_text(&made["fulfillment_event"]["id"]),
            answer: format!("Shopify fulfilment {fulfillment} is in transit"),
        })
    }
}
