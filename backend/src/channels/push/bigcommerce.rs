//! BigCommerce hears of a parcel: a shipment of its order products with the tracking number,
//! which moves the order's status (shipped, or partially shipped). A shipment is created
//! once: the order's shipments are read first and one with the parcel's tracking number is
//! taken; the create is sent once per run.

use super::Outcome;
use super::numeric;
use super::parcel::{ParcelPush, bigcommerce_existing, bigcommerce_shipment};
use crate::channels::bigcommerce::Api;
use crate::channels::store::{Failure, answer_json, id_text};

pub(super) async fn fulfil(api: &Api<'_>, p: &ParcelPush) -> Result<Outcome, Failure> {
    let order = numeric(&p.order, "BigCommerce")?;
    let shipments = api.shipments(order).await?;
    if let Some(id) = bigcommerce_existing(&shipments, &p.tracking_number) {
        return Ok(Outcome::Sent {
            answer: format!("BigCommerce already had shipment {id} for this tracking number"),
            remote_id: Some(id),
        });
    }
    let Some(address) = api.shipping_address_ids(order).await?.first().copied() else {
        return Err(Failure::Refused(
            "the BigCommerce order has no shipping address to ship from".into(),
        ));
    };
    let res = api
        .create_shipment(order, &bigcommerce_shipment(p, address))
        .await
        .map_err(|(e, _)| Failure::from(e))?;
    let made = answer_json("BigCommerce shipment", &res)?;
    let id = id_text(&made["id"])
        .ok_or_else(|| Failure::Refused("BigCommerce's answer has no shipment id".into()))?;
    Ok(Outcome::Sent {
        answer: format!("BigCommerce shipment {id}"),
        remote_id: Some(id),
    })
}

/// BigCommerce's status for a cancelled order (`v2_order_statuses`: 5 Cancelled).
const CANCELLED: i64 = 5;

/// The order cancelled in Orderflow: its BigCommerce status set to Cancelled (setting it again
/// is harmless).
pub(super) async fn cancel(api: &Api<'_>, order: &str) -> Result<Outcome, Failure> {
    let order = numeric(order, "BigCommerce")?;
    let made = api.update_status(order, CANCELLED).await?;
    Ok(Outcome::Sent {
        remote_id: Some(order.to_owned()),
        answer: format!(
            "BigCommerce order {order}: {}",
            made["status"].as_str().unwrap_or("status updated")
        ),
    })
}
