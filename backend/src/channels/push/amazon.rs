//! Amazon hears of a parcel: `confirmShipment` for it as one package with its order items,
//! carrier and tracking. Amazon takes no idempotency key and lists no packages, so before
//! confirming, the order items are read: when they already show the parcel's units shipped
//! (beyond the parcels confirmed before it), the confirmation went through and its answer was
//! lost. The confirmation itself is sent once per run.

use super::Outcome;
use super::parcel::{ParcelPush, amazon_confirmation, amazon_confirmed};
use crate::channels::amazon::Api;
use crate::channels::store::{Failure, answer_json};

/// `before`: units of each order item in the parcels confirmed before this one.
pub(super) async fn fulfil(
    api: &Api<'_>,
    p: &ParcelPush,
    before: &[(String, i64)],
) -> Result<Outcome, Failure> {
    if p.order.is_empty()
        || p.order.len() > 40
        || !p.order.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        return Err(Failure::Refused(format!(
            "{:?} is not an Amazon order id",
            p.order
        )));
    }
    if p.lines.is_empty() {
        return Ok(Outcome::Skipped(
            "none of the parcel's lines is an Amazon order item".into(),
        ));
    }
    let token = api.access_token().await?;
    let items = api.items(&token, &p.order).await?;
    if amazon_confirmed(&items, p, before) {
        return Ok(Outcome::Sent {
            remote_id: None,
            answer: "Amazon already shows this package's units shipped".into(),
        });
    }
    let body = amazon_confirmation(p, api.marketplace()?);
    let res = api
        .confirm_shipment(&token, &p.order, &body)
        .await
        .map_err(|(e, _)| Failure::from(e))?;
    if res.status.as_u16() == 204 {
        return Ok(Outcome::Sent {
            remote_id: None,
            answer: format!("Amazon confirmed package {}", p.parcel_no),
        });
    }
    answer_json("Amazon confirmShipment", &res)?;
    Ok(Outcome::Sent {
        remote_id: None,
        answer: format!(
            "Amazon confirmed package {} (HTTP {})",
            p.parcel_no, res.status
        ),
    })
}
