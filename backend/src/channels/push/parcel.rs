//! What a parcel's fulfilment says to a channel, and how each platform wants it said. Pure:
//! the parcel in, request bodies out; the calls are in the platform modules.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// A parcel as the channel is told of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParcelPush {
    /// The channel's id of the order.
    pub order: String,
    pub parcel_no: i32,
    pub parcel_count: i32,
    pub tracking_number: String,
    pub tracking_url: Option<String>,
    /// The carrier as shoppers know it (USPS, UPS, or the merchant's carrier's name).
    pub carrier: String,
    /// The carrier's service (Priority, Ground…).
    pub service: String,
    /// The channel's line ids and how many of each are in the parcel.
    pub lines: Vec<(String, i64)>,
    pub shipped_at: DateTime<Utc>,
}

/// The carrier's name as a channel shows it: the carrier of a carrier API's service
/// (`USPS/Priority` → USPS), else the merchant's name for the carrier.
pub fn carrier_name(remote_code: Option<&str>, carrier: &str) -> String {
    remote_code
        .and_then(|c| c.split('/').next())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(carrier)
        .to_owned()
}

/// Shopify: which fulfilment order lines the parcel fulfils (`line_items_by_fulfillment_order`),
/// from the order's fulfilment orders. Only open fulfilment orders with units left to fulfil
/// count; a parcel line takes what is left of its line item, across fulfilment orders.
pub fn shopify_plan(fulfillment_orders: &Value, lines: &[(String, i64)]) -> Vec<Value> {
    let mut plan: Vec<(i64, Vec<Value>)> = Vec::new();
    let open = fulfillment_orders
        .as_array()
        .into_iter()
        .flatten()
        .filter(|fo| matches!(fo["status"].as_str(), Some("open" | "in_progress")));
    let mut wanted: Vec<(String, i64)> = lines.to_vec();
    for fo in open {
        let Some(fo_id) = fo["id"].as_i64() else {
            continue;
        };
        let mut take = Vec::new();
        for item in fo["line_items"].as_array().into_iter().flatten() {
            let line = item["line_item_id"].as_i64().map(|i| i.to_string());
            let left = item["fulfillable_quantity"].as_i64().unwrap_or(0);
            let Some((_, want)) = wanted
                .iter_mut()
                .find(|(id, q)| Some(id) == line.as_ref() && *q > 0)
            else {
                continue;
            };
            let n = left.min(*want);
            if n > 0 {
                *want -= n;
                take.push(json!({ "id": item["id"], "quantity": n }));
            }
        }
        if !take.is_empty() {
            plan.push((fo_id, take));
        }
    }
    plan.into_iter()
        .map(|(id, items)| {
            json!({ "fulfillment_order_id": id, "fulfillment_order_line_items": items })
        })
        .collect()
}

/// Shopify: the fulfilment for `plan` with the parcel's tracking.
pub fn shopify_fulfillment(p: &ParcelPush, plan: Vec<Value>, notify_customer: bool) -> Value {
    let mut tracking = json!({ "number": p.tracking_number, "company": p.carrier });
    if let Some(url) = &p.tracking_url {
        tracking["url"] = json!(url);
    }
    json!({
        "fulfillment": {
            "notify_customer": notify_customer,
            "tracking_info": tracking,
            "line_items_by_fulfillment_order": plan,
        }
    })
}

/// Shopify: the fulfilment of the order that already carries this tracking number (a run
/// after a lost answer finds what it made).
pub fn shopify_existing(fulfillments: &Value, tracking_number: &str) -> Option<String> {
    fulfillments
        .as_array()?
        .iter()
        .filter(|f| f["status"].as_str() != Some("cancelled"))
        .find(|f| {
            f["tracking_number"].as_str() == Some(tracking_number)
                || f["tracking_numbers"]
                    .as_array()
                    .is_some_and(|ns| ns.iter().any(|n| n.as_str() == Some(tracking_number)))
        })
        .and_then(|f| crate::channels::store::id_text(&f["id"]))
}

/// Shopify: which of `ours` (fulfilment ids) the order still holds, not cancelled.
pub fn live_fulfilments(fulfillments: &Value, ours: &[String]) -> Vec<String> {
    fulfillments
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["status"].as_str() != Some("cancelled"))
        .filter_map(|f| crate::channels::store::id_text(&f["id"]))
        .filter(|id| ours.contains(id))
        .collect()
}

/// WooCommerce: the note the shopper sees for the parcel.
pub fn woo_note(p: &ParcelPush) -> String {
    let parcel = if p.parcel_count > 1 {
        format!(" (parcel {} of {})", p.parcel_no, p.parcel_count)
    } else {
        String::new()
    };
    match &p.tracking_url {
        Some(url) => format!(
            "Shipped with {}{parcel}: tracking number {} — {url}",
            p.carrier, p.tracking_number
        ),
        None => format!(
            "Shipped with {}{parcel}: tracking number {}",
            p.carrier, p.tracking_number
        ),
    }
}

/// WooCommerce: the note already written for this tracking number, if any.
pub fn woo_existing(notes: &Value, tracking_number: &str) -> Option<String> {
    notes
        .as_array()?
        .iter()
        .find(|n| {
            n["note"]
                .as_str()
                .is_some_and(|t| t.contains(tracking_number))
        })
        .and_then(|n| crate::channels::store::id_text(&n["id"]))
}

/// WooCommerce: the order completed, with every parcel's tracking in the order meta the
/// Shipment Tracking extension reads (`_wc_shipment_tracking_items`).
pub fn woo_completed(parcels: &[ParcelPush]) -> Value {
    let items: Vec<Value> = parcels
        .iter()
        .map(|p| {
            json!({
                "tracking_provider": "",
                "custom_tracking_provider": p.carrier,
                "custom_tracking_link": p.tracking_url.clone().unwrap_or_default(),
                "tracking_number": p.tracking_number,
                "date_shipped": p.shipped_at.timestamp().to_string(),
                "tracking_id": format!("orderflow-{}", p.tracking_number),
            })
        })
        .collect();
    json!({
        "status": "completed",
        "meta_data": [{ "key": "_wc_shipment_tracking_items", "value": items }],
    })
}

/// BigCommerce: a shipment of the parcel's order products from the order's address. Its own
/// carriers (`shipping_provider`) are named when BigCommerce knows them; any other carrier is
/// written as the tracking carrier, with a link when the parcel has one.
pub fn bigcommerce_shipment(p: &ParcelPush, order_address_id: i64) -> Value {
    let known = ["usps", "ups", "fedex", "auspost", "royalmail"];
    let lower = p.carrier.to_ascii_lowercase().replace([' ', '-'], "");
    let provider = known.iter().find(|k| **k == lower).copied().unwrap_or("");
    let items: Vec<Value> = p
        .lines
        .iter()
        .filter_map(|(id, q)| {
            Some(json!({ "order_product_id": id.parse::<i64>().ok()?, "quantity": q }))
        })
        .collect();
    let mut body = json!({
        "order_address_id": order_address_id,
        "tracking_number": p.tracking_number,
        "shipping_provider": provider,
        "comments": format!("Shipped with {} (parcel {} of {})", p.carrier, p.parcel_no, p.parcel_count),
        "items": items,
    });
    if provider.is_empty() {
        body["tracking_carrier"] = json!(p.carrier);
    }
    if let Some(url) = &p.tracking_url {
        body["tracking_link"] = json!(url);
    }
    body
}

/// BigCommerce: the order's shipment that already carries this tracking number.
pub fn bigcommerce_existing(shipments: &[Value], tracking_number: &str) -> Option<String> {
    shipments
        .iter()
        .find(|s| s["tracking_number"].as_str() == Some(tracking_number))
        .and_then(|s| crate::channels::store::id_text(&s["id"]))
}

/// Amazon's carrier code for a carrier's name (its documented codes), or `Other` with the
/// name given as the carrier name.
fn amazon_carrier(carrier: &str) -> (&'static str, Option<String>) {
    const CODES: [&str; 8] = [
        "USPS",
        "UPS",
        "FedEx",
        "DHL",
        "OnTrac",
        "Royal Mail",
        "Canada Post",
        "Amazon Shipping",
    ];
    CODES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(carrier))
        .map_or(("Other", Some(carrier.to_owned())), |c| (c, None))
}

/// Amazon: `confirmShipment` for the parcel, one package with its order items.
pub fn amazon_confirmation(p: &ParcelPush, marketplace: &str) -> Value {
    let (code, name) = amazon_carrier(&p.carrier);
    let mut package = json!({
        "packageReferenceId": p.parcel_no.to_string(),
        "carrierCode": code,
        "shippingMethod": p.service,
        "trackingNumber": p.tracking_number,
        "shipDate": p.shipped_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "orderItems": p.lines.iter().map(|(id, q)| json!({ "orderItemId": id, "quantity": q })).collect::<Vec<_>>(),
    });
    if let Some(name) = name {
        package["carrierName"] = json!(name);
    }
    json!({ "marketplaceId": marketplace, "packageDetail": package })
}

/// Amazon: whether its order items already show this parcel's units as shipped, beyond
/// `before` (units of each item in the parcels confirmed before it): a confirmation whose
/// answer was lost.
pub fn amazon_confirmed(items: &[Value], p: &ParcelPush, before: &[(String, i64)]) -> bool {
    !p.lines.is_empty()
        && p.lines.iter().all(|(id, q)| {
            let shipped = items
                .iter()
                .find(|i| i["OrderItemId"].as_str() == Some(id))
                .and_then(|i| i["QuantityShipped"].as_i64())
                .unwrap_or(0);
            let earlier: i64 = before.iter().filter(|(b, _)| b == id).map(|(_, n)| n).sum();
            shipped >= earlier + q
        })
}

/// Etsy: `createReceiptShipment`'s form.
pub fn etsy_form(p: &ParcelPush) -> Vec<(&'static str, String)> {
    vec![
        ("tracking_code", p.tracking_number.clone()),
        ("carrier_name", p.carrier.to_ascii_lowercase()),
        ("send_bcc", "false".to_owned()),
    ]
}

/// Etsy: the receipt's shipment that already carries this tracking code.
pub fn etsy_existing(receipt: &Value, tracking_number: &str) -> Option<String> {
    receipt["shipments"]
        .as_array()?
        .iter()
        .find(|s| s["tracking_code"].as_str() == Some(tracking_number))
        .and_then(|s| crate::channels::store::id_text(&s["receipt_shipping_id"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn parcel(lines: Vec<(&str, i64)>) -> ParcelPush {
        ParcelPush {
            order: "450789469".into(),
            parcel_no: 1,
            parcel_count: 2,
            tracking_number: "1Z001985YW99744790".into(),
            tracking_url: None,
            carrier: "UPS".into(),
            service: "Ground".into(),
            lines: lines.into_iter().map(|(l, q)| (l.to_owned(), q)).collect(),
            shipped_at: Utc::now(),
        }
    }

    #[test]
    fn a_parcel_fulfils_the_open_fulfilment_order_lines_of_its_line_items() {
        let recorded = fixture("shopify/writeback/rest_2026-07_fulfillment_orders_list.json");
        let fos = &recorded["response"]["body"]["fulfillment_orders"];
        let plan = shopify_plan(fos, &[("518995019".into(), 1)]);
        assert_eq!(
            plan,
            vec![json!({ "fulfillment_order_id": 1046000780,
                "fulfillment_order_line_items": [{ "id": 1072503277, "quantity": 1 }] })]
        );
        // More than is left to fulfil: only what is left; a line the order lacks: nothing.
        assert_eq!(
            shopify_plan(fos, &[("518995019".into(), 5)])[0]["fulfillment_order_line_items"][0]["quantity"],
            1
        );
        assert!(shopify_plan(fos, &[("1".into(), 1)]).is_empty());
        // A closed fulfilment order has nothing to fulfil.
        let mut closed = fos.clone();
        closed[0]["status"] = json!("closed");
        assert!(shopify_plan(&closed, &[("518995019".into(), 1)]).is_empty());
    }

    #[test]
    fn the_fulfilment_is_shaped_as_shopify_documents_it() {
        let recorded =
            fixture("shopify/writeback/rest_2026-07_fulfillment_create_partial_lines_ups.json");
        let sent = &recorded["request"]["body"]["fulfillment"];
        let plan = vec![json!({ "fulfillment_order_id": 1046000811,
            "fulfillment_order_line_items": [{ "id": 1072503316, "quantity": 1 }] })];
        let body = shopify_fulfillment(&parcel(vec![]), plan, false);
        let ours = &body["fulfillment"];
        for key in [
            "notify_customer",
            "tracking_info",
            "line_items_by_fulfillment_order",
        ] {
            assert_eq!(ours[key], sent[key], "{key}");
        }
        // The answer's fulfilment is found again by its tracking number.
        let made = &recorded["response"]["body"]["fulfillment"];
        assert_eq!(
            shopify_existing(&json!([made]), "1Z001985YW99744790").as_deref(),
            Some("1069019868")
        );
        assert_eq!(shopify_existing(&json!([made]), "OTHER"), None);
        let mut cancelled = made.clone();
        cancelled["status"] = json!("cancelled");
        assert_eq!(
            shopify_existing(&json!([cancelled]), "1Z001985YW99744790"),
            None
        );
    }

    #[test]
    fn only_our_live_fulfilments_are_cancelled() {
        let order = fixture("shopify/rest_order.json");
        let fulfillments = &order["order"]["fulfillments"];
        let ours = vec!["255858046".to_owned()];
        // The recorded fulfilment's status is "failure": still there, so ours to cancel.
        assert_eq!(live_fulfilments(fulfillments, &ours), ours);
        assert!(live_fulfilments(fulfillments, &["1".to_owned()]).is_empty());
        let recorded = fixture("shopify/writeback/rest_2026-07_fulfillment_cancel.json");
        let cancelled = &recorded["response"]["body"]["fulfillment"];
        assert_eq!(cancelled["status"], "cancelled");
        let id = crate::channels::store::id_text(&cancelled["id"]).unwrap();
        assert!(live_fulfilments(&json!([cancelled]), &[id]).is_empty());
    }

    #[test]
    fn woocommerce_hears_a_note_per_parcel_and_completed_with_the_tracking_meta() {
        let p = parcel(vec![("1", 1)]);
        assert_eq!(
            woo_note(&p),
            "Shipped with UPS (parcel 1 of 2): tracking number 1Z001985YW99744790"
        );
        let recorded = fixture("woocommerce/writeback/order_note_create_723.json");
        let mut made = recorded["response"]["body"].clone();
        assert_eq!(
            woo_existing(&json!([made.clone()]), &p.tracking_number),
            None
        );
        made["note"] = json!(woo_note(&p));
        assert_eq!(
            woo_existing(&json!([made]), &p.tracking_number).as_deref(),
            Some("281")
        );
        let done = woo_completed(&[p]);
        assert_eq!(done["status"], "completed");
        let item = &done["meta_data"][0]["value"][0];
        assert_eq!(done["meta_data"][0]["key"], "_wc_shipment_tracking_items");
        assert_eq!(item["tracking_number"], "1Z001985YW99744790");
        assert_eq!(item["custom_tracking_provider"], "UPS");
    }

    #[test]
    fn bigcommerce_gets_a_shipment_of_the_parcels_order_products() {
        let recorded = fixture("bigcommerce/writeback/v2_order_shipment_create_POST_201.json");
        let sent = &recorded["request"]["body"];
        let mut p = parcel(vec![("194", 1), ("195", 1)]);
        p.carrier = "USPS".into();
        p.tracking_number = "EJ958083578UK".into();
        let body = bigcommerce_shipment(&p, 128);
        assert_eq!(body["tracking_number"], sent["tracking_number"]);
        assert_eq!(body["items"], sent["items"]);
        // The guide writes the address id as a string, the reference as a number: a number.
        assert_eq!(body["order_address_id"], 128);
        assert_eq!(body["shipping_provider"], "usps");
        let mut own = parcel(vec![("194", 1)]);
        own.carrier = "Acme Freight".into();
        let other = bigcommerce_shipment(&own, 128);
        assert_eq!(
            (
                other["shipping_provider"].clone(),
                other["tracking_carrier"].clone()
            ),
            (json!(""), json!("Acme Freight"))
        );
        let listed = fixture("bigcommerce/v2_order_shipments.json");
        let listed = listed.as_array().unwrap();
        assert_eq!(
            bigcommerce_existing(listed, "EJ958083578US").as_deref(),
            Some("6")
        );
        assert_eq!(bigcommerce_existing(listed, "OTHER"), None);
    }

    #[test]
    fn amazon_is_told_of_one_package_as_its_model_shows() {
        let recorded =
            fixture("amazon/writeback/sp_api_orders_v0_confirmShipment_sandbox_204.json");
        let sent = &recorded["request"]["body"];
        let mut p = parcel(vec![("79039765272157", 1)]);
        p.carrier = "FedEx".into();
        p.service = "FedEx Ground".into();
        p.tracking_number = "112345678".into();
        let body = amazon_confirmation(&p, "ATVPDKIKX0DER");
        assert_eq!(body["marketplaceId"], sent["marketplaceId"]);
        let (ours, theirs) = (&body["packageDetail"], &sent["packageDetail"]);
        for key in ["carrierCode", "shippingMethod", "trackingNumber"] {
            assert_eq!(ours[key], theirs[key], "{key}");
        }
        assert_eq!(
            ours["orderItems"][0]["orderItemId"],
            theirs["orderItems"][0]["orderItemId"]
        );
        // ISO-8601 with milliseconds (the model's 400 is for a date that is not).
        let date = ours["shipDate"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(date).is_ok() && date.ends_with('Z'));
        // A carrier Amazon has no code for is Other, named.
        let mut own = p.clone();
        own.carrier = "Acme Freight".into();
        let other = amazon_confirmation(&own, "ATVPDKIKX0DER");
        assert_eq!(other["packageDetail"]["carrierCode"], "Other");
        assert_eq!(other["packageDetail"]["carrierName"], "Acme Freight");
        // Already shown shipped: a confirmation whose answer was lost.
        let items = [
            json!({ "OrderItemId": "79039765272157", "QuantityOrdered": 2, "QuantityShipped": 1 }),
        ];
        assert!(amazon_confirmed(&items, &p, &[]));
        assert!(!amazon_confirmed(
            &items,
            &p,
            &[("79039765272157".into(), 1)]
        ));
    }

    #[test]
    fn etsy_gets_the_tracking_code_and_carrier_its_spec_names() {
        let spec = fixture(
            "etsy/writeback/openapi_2021_createReceiptShipment_updateListingInventory.json",
        );
        let text = spec.to_string();
        let p = parcel(vec![]);
        for (field, _) in etsy_form(&p) {
            assert!(
                text.contains(&format!("\"{field}\"")),
                "{field} is in Etsy's spec"
            );
        }
        let receipt = json!({ "shipments": [{ "receipt_shipping_id": 7, "tracking_code": "1Z001985YW99744790" }] });
        assert_eq!(
            etsy_existing(&receipt, "1Z001985YW99744790").as_deref(),
            Some("7")
        );
        assert_eq!(etsy_existing(&receipt, "OTHER"), None);
    }

    #[test]
    fn a_carrier_is_named_as_shoppers_know_it() {
        assert_eq!(carrier_name(Some("USPS/Priority"), "EasyPost"), "USPS");
        assert_eq!(carrier_name(None, "Acme Freight"), "Acme Freight");
        assert_eq!(carrier_name(Some(""), "Acme Freight"), "Acme Freight");
    }
}
