//! WooCommerce hears of a parcel: a note the shopper sees, with carrier and tracking; once
//! every parcel has been told, the order is completed with all the tracking in the meta the
//! Shipment Tracking extension reads.
//!
//! A note is written once: the order's notes are read first and one that already names the
//! tracking number is taken; the create is sent once per run.

use reqwest::Method;
use serde_json::json;

use super::parcel::{ParcelPush, woo_completed, woo_existing, woo_note};
use super::{CANCEL, COMPLETED, FULFILLMENT, Outcome, Scene, not_taken, numeric};
use crate::channels::store::{Failure, Store, answer_json, id_text};

/// Sends a push to WooCommerce.
pub(super) async fn send(
    store: &Store<'_>,
    s: &Scene,
    parcel: Option<&ParcelPush>,
) -> Result<Outcome, Failure> {
    match (s.push.kind.as_str(), parcel) {
        (FULFILLMENT, Some(p)) => store.woo_note_for(p).await,
        (COMPLETED, _) => {
            let all: Vec<ParcelPush> = s.parcels.iter().map(|(_, p)| p.clone()).collect();
            store.woo_complete(&s.order.external_id, &all).await
        }
        (CANCEL, _) => store.woo_cancel(&s.order.external_id).await,
        _ => Ok(not_taken(s)),
    }
}

impl Store<'_> {
    pub(super) async fn woo_note_for(&self, p: &ParcelPush) -> Result<Outcome, Failure> {
        let order = numeric(&p.order, "WooCommerce")?;
        let list = self.woo(Method::GET, &format!("orders/{order}/notes"))?;
        let res = self
            .client
            .exchange("WooCommerce GET notes", &|| {
                list.try_clone().unwrap_or_else(|| unreachable!())
            })
            .await?;
        let notes = answer_json("WooCommerce GET notes", &res)?;
        if let Some(id) = woo_existing(&notes, &p.tracking_number) {
            return Ok(Outcome::Sent {
                answer: format!("WooCommerce already had note {id} for this tracking number"),
                remote_id: Some(id),
            });
        }
        let create = self
            .woo(Method::POST, &format!("orders/{order}/notes"))?
            .json(&json!({ "note": woo_note(p), "customer_note": true }));
        let res = self
            .client
            .once("WooCommerce note", create)
            .await
            .map_err(|(e, _)| Failure::from(e))?;
        let made = answer_json("WooCommerce note", &res)?;
        let id = id_text(&made["id"])
            .ok_or_else(|| Failure::Refused("WooCommerce's answer has no note id".into()))?;
        Ok(Outcome::Sent {
            answer: format!("WooCommerce note {id} for the shopper"),
            remote_id: Some(id),
        })
    }

    /// The order cancelled in Orderflow: cancelled on WooCommerce (setting it again is
    /// harmless).
    pub(super) async fn woo_cancel(&self, order: &str) -> Result<Outcome, Failure> {
        let order = numeric(order, "WooCommerce")?;
        let put = self.woo(Method::PUT, &format!("orders/{order}"))?;
        let body = json!({ "status": "cancelled" });
        let res = self
            .client
            .exchange("WooCommerce order cancel", &|| {
                put.try_clone()
                    .unwrap_or_else(|| unreachable!())
                    .json(&body)
            })
            .await?;
        let made = answer_json("WooCommerce order cancel", &res)?;
        Ok(Outcome::Sent {
            remote_id: id_text(&made["id"]),
            answer: format!(
                "WooCommerce order {order} is {}",
                made["status"].as_str().unwrap_or("updated")
            ),
        })
    }

    /// Every parcel told: the order is completed (setting it again is harmless).
    pub(super) async fn woo_complete(
        &self,
        order: &str,
        parcels: &[ParcelPush],
    ) -> Result<Outcome, Failure> {
        let order = numeric(order, "WooCommerce")?;
        let put = self.woo(Method::PUT, &format!("orders/{order}"))?;
        let body = woo_completed(parcels);
        let res = self
            .client
            .exchange("WooCommerce order update", &|| {
                put.try_clone()
                    .unwrap_or_else(|| unreachable!())
                    .json(&body)
            })
            .await?;
        let made = answer_json("WooCommerce order update", &res)?;
        Ok(Outcome::Sent {
            remote_id: id_text(&made["id"]),
            answer: format!(
                "WooCommerce order {order} is {}",
                made["status"].as_str().unwrap_or("updated")
            ),
        })
    }
}
