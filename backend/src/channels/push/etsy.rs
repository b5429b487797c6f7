//! Etsy hears of a parcel: `createReceiptShipment` with its tracking code and carrier (Etsy
//! emails the buyer). Created once: the receipt's shipments are read first and one with the
//! parcel's tracking code is taken; the create is sent once per run.

use super::parcel::{ParcelPush, etsy_existing, etsy_form};
use super::{Outcome, numeric};
use crate::channels::etsy::Receipts;
use crate::channels::store::{Failure, answer_json};

pub(super) async fn fulfil(api: &Receipts<'_>, p: &ParcelPush) -> Result<Outcome, Failure> {
    let receipt = numeric(&p.order, "Etsy")?;
    let known = api.receipt(receipt).await?;
    if let Some(id) = etsy_existing(&known, &p.tracking_number) {
        return Ok(Outcome::Sent {
            answer: format!("Etsy already had shipment {id} for this tracking code"),
            remote_id: Some(id),
        });
    }
    let res = api
        .create_shipment(receipt, &etsy_form(p))
        .await
        .map_err(|(e, _)| Failure::from(e))?;
    let made = answer_json("Etsy createReceiptShipment", &res)?;
    Ok(Outcome::Sent {
        remote_id: etsy_existing(&made, &p.tracking_number),
        answer: format!(
            "Etsy receipt {receipt} shipped ({})",
            made["status"].as_str().unwrap_or("updated")
        ),
    })
}
