//! Shopify hears of a parcel: a fulfilment of the fulfilment order lines it holds, with its
//! tracking; then, when the carrier has it, an `in_transit` event on that fulfilment.
//!
//! A fulfilment is created once: the order's fulfilments are read first and one that already
//! carries the parcel's tracking number is taken (a run after a lost answer), and the create
//! itself is sent once per run, never retried blindly.

use reqwest::Method;
use serde_json::json;

use super::parcel::{ParcelPush, shopify_existing, shopify_fulfillment, shopify_plan};
use super::{Outcome, numeric};
use crate::channels::store::{Failure, Store, answer_json, id_text};

impl Store<'_> {
    pub(super) async fn shopify_fulfil(
        &self,
        p: &ParcelPush,
        notify_customer: bool,
    ) -> Result<Outcome, Failure> {
        let order = numeric(&p.order, "Shopify")?;
        let read = self.shopify(
            Method::GET,
            &format!("orders/{order}.json?fields=id,fulfillments"),
        )?;
        let res = self
            .client
            .exchange("Shopify GET order", &|| {
                read.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await?;
        let known = answer_json("Shopify GET order", &res)?;
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
