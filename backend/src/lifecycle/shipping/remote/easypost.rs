//! EasyPost's API (`/v2`): a shipment is created with the parcel and comes back with its
//! rates; one rate is bought (`/buy`), which adds the label, the tracking code and a tracker;
//! a bought label is refunded (`/refund`) and its `refund_status` followed. Authentication is
//! HTTP Basic with the API key as the user name. Weights are in ounces, lengths in inches.

use reqwest::Method;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde_json::{Value, json};

use super::{
    Account, CustomsLine, Label, LabelFormat, ParcelSpec, Purchase, Quote, RefundStatus,
    RemoteError, RemoteRate, words,
};
use crate::domain::address::Address;
use crate::infra::outbound::Answer;
use crate::infra::outbound::api::{Client, json_of};

pub const DEFAULT_API: &str = "https://api.easypost.com";

const GRAMS_PER_OUNCE: f64 = 28.349_523_125;
const MM_PER_INCH: f64 = 25.4;

/// A tenant's EasyPost account.
pub struct EasyPost<'a> {
    pub client: &'a Client,
    pub account: &'a Account,
}

impl EasyPost<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(
                method,
                &format!("{}/v2/{path}", self.account.base.trim_end_matches('/')),
            )
            .basic_auth(&self.account.api_key, Some(""))
    }

    /// Whether the key works: one shipment listed (the connection test).
    pub async fn check(&self) -> Result<(), RemoteError> {
        let build = || self.request(Method::GET, "shipments?page_size=1");
        let body = answer_json(&self.client.exchange("EasyPost", &build).await?)?;
        if body["shipments"].is_array() {
            Ok(())
        } else {
            Err(RemoteError::Refused(
                "the API answered, but not as EasyPost does".into(),
            ))
        }
    }

    /// Creates the shipment: EasyPost rates it with every carrier account asked for.
    /// Retried on network trouble: an extra unbought shipment costs nothing.
    pub async fn quote(&self, spec: &ParcelSpec) -> Result<Quote, RemoteError> {
        let body = shipment_body(spec, &self.account.carrier_accounts);
        let build = || self.request(Method::POST, "shipments").json(&body);
        let res = self.client.exchange("EasyPost shipment", &build).await?;
        read_quote(&answer_json(&res)?)
    }

    /// The shipment as EasyPost has it now: its rates, and its label if one was bought (the
    /// question asked after a crash, before buying again).
    pub async fn shipment(&self, id: &str) -> Result<(Quote, Option<Label>), RemoteError> {
        let path = format!("shipments/{}", path_segment(id)?);
        let build = || self.request(Method::GET, &path);
        let body = answer_json(&self.client.exchange("EasyPost shipment", &build).await?)?;
        Ok((read_quote(&body)?, read_label(&body)))
    }

    /// Buys `rate` of `shipment`: sent once (a repeat after an unanswered attempt is decided
    /// by asking for the shipment first).
    pub async fn buy(&self, shipment: &str, rate: &str) -> Result<Purchase, RemoteError> {
        let path = format!("shipments/{}/buy", path_segment(shipment)?);
        // The label's format was asked for when the shipment was created.
        let request = self
            .request(Method::POST, &path)
            .json(&json!({ "rate": { "id": rate } }));
        let res = self.client.once("EasyPost label purchase", request).await?;
        let body = answer_json(&res)?;
        read_label(&body)
            .map(Purchase::Bought)
            .ok_or_else(|| RemoteError::Refused("EasyPost bought no label for the shipment".into()))
    }

    /// Asks for the postage of a bought label back.
    pub async fn refund(&self, shipment: &str) -> Result<RefundStatus, RemoteError> {
        let path = format!("shipments/{}/refund", path_segment(shipment)?);
        let build = || self.request(Method::POST, &path).json(&json!({}));
        let res = self.client.exchange("EasyPost refund", &build).await?;
        Ok(read_refund_status(&answer_json(&res)?))
    }

    /// Where a refund asked for earlier stands.
    pub async fn refund_status(&self, shipment: &str) -> Result<RefundStatus, RemoteError> {
        let path = format!("shipments/{}", path_segment(shipment)?);
        let build = || self.request(Method::GET, &path);
        let res = self.client.exchange("EasyPost shipment", &build).await?;
        Ok(read_refund_status(&answer_json(&res)?))
    }
}

/// An id from EasyPost, checked before it goes into a URL path.
fn path_segment(id: &str) -> Result<&str, RemoteError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(id)
        .ok_or_else(|| RemoteError::Refused(format!("{id:?} is not an EasyPost id")))
}

/// The body of a success, or EasyPost's own words for a refusal.
fn answer_json(res: &Answer) -> Result<Value, RemoteError> {
    if res.status.is_success() {
        return Ok(json_of("EasyPost", res)?);
    }
    let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
    Err(RemoteError::Refused(read_error(res.status.as_u16(), &body)))
}

/// `{"error": {"code", "message", "errors": [{"field", "message"}]}}` in words.
pub fn read_error(status: u16, body: &Value) -> String {
    let error = &body["error"];
    let mut text = words(
        error["message"].as_str().map(str::to_owned),
        &format!("EasyPost answered HTTP {status}"),
    );
    let fields: Vec<String> = error["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let message = e["message"].as_str()?;
            Some(match e["field"].as_str() {
                Some(field) => format!("{field} {message}"),
                None => message.to_owned(),
            })
        })
        .collect();
    if !fields.is_empty() {
        text = format!("{text} ({})", fields.join("; "));
    }
    match error["code"].as_str() {
        Some(code) => format!("EasyPost {code}: {text}"),
        None => format!("EasyPost: {text}"),
    }
}

fn label_format(format: LabelFormat) -> &'static str {
    match format {
        LabelFormat::Pdf => "PDF",
        LabelFormat::Zpl => "ZPL",
    }
}

fn ounces(grams: u32) -> f64 {
    // One decimal, rounded up: a carrier's scale never reads less than we declared.
    (f64::from(grams) / GRAMS_PER_OUNCE * 10.0).ceil() / 10.0
}

fn inches(mm: u32) -> f64 {
    (f64::from(mm) / MM_PER_INCH * 10.0).ceil() / 10.0
}

fn address(a: &Address) -> Value {
    json!({
        "name": a.name,
        "company": a.company,
        "street1": a.line1,
        "street2": a.line2,
        "city": a.city,
        "state": a.region,
        "zip": a.postal_code,
        "country": a.country,
        "phone": a.phone,
    })
}

fn customs(spec: &ParcelSpec, lines: &[CustomsLine]) -> Value {
    let items: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({
                "description": l.description,
                "quantity": l.quantity,
                "weight": ounces(l.weight_grams),
                "value": l.value.to_string(),
                "currency": l.currency,
                "hs_tariff_number": l.hs_code,
                "origin_country": l.origin_country,
            })
        })
        .collect();
    let mut info = json!({
        "customs_certify": true,
        "customs_signer": spec.customs_signer,
        "contents_type": "merchandise",
        "restriction_type": "none",
        "non_delivery_option": "return",
        "customs_items": items,
    });
    // US exports below the filing threshold carry the exemption code instead of an ITN.
    if spec.from.country.eq_ignore_ascii_case("US") {
        info["eel_pfc"] = json!("NOEEI 30.37(a)");
    }
    info
}

/// The `POST /v2/shipments` body for a parcel.
pub fn shipment_body(spec: &ParcelSpec, carrier_accounts: &[String]) -> Value {
    let [length, width, height] = spec.dimensions_mm;
    let mut shipment = json!({
        "reference": spec.reference,
        "from_address": address(&spec.from),
        "to_address": address(&spec.to),
        "parcel": {
            "length": inches(length),
            "width": inches(width),
            "height": inches(height),
            "weight": ounces(spec.weight_grams),
        },
        "options": {
            "label_format": label_format(spec.label_format),
            "label_size": "4x6",
            "invoice_number": spec.reference,
        },
    });
    if spec.is_return {
        shipment["is_return"] = json!(true);
    }
    if spec.is_international() && !spec.customs.is_empty() {
        shipment["customs_info"] = customs(spec, &spec.customs);
    }
    if !carrier_accounts.is_empty() {
        shipment["carrier_accounts"] = json!(carrier_accounts);
    }
    json!({ "shipment": shipment })
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64().and_then(Decimal::from_f64),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn read_rate(r: &Value) -> Option<RemoteRate> {
    Some(RemoteRate {
        id: text(&r["id"])?,
        carrier: text(&r["carrier"])?,
        service: text(&r["service"])?,
        price: decimal(&r["rate"])?,
        currency: text(&r["currency"]).unwrap_or_else(|| "USD".into()),
        delivery_days: r["delivery_days"]
            .as_u64()
            .or_else(|| r["est_delivery_days"].as_u64())
            .and_then(|d| u32::try_from(d).ok()),
        delivery_date: r["delivery_date"]
            .as_str()
            .and_then(|d| d.get(..10))
            .and_then(|d| d.parse().ok()),
        carrier_account: text(&r["carrier_account_id"]),
    })
}

/// A shipment's id, rates, messages and the delivery verification of its `to_address`.
pub fn read_quote(body: &Value) -> Result<Quote, RemoteError> {
    let shipment_id = text(&body["id"])
        .ok_or_else(|| RemoteError::Refused("EasyPost's answer has no shipment id".into()))?;
    let rates = body["rates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(read_rate)
        .collect();
    let messages = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let message = text(&m["message"])?;
            Some(match text(&m["carrier"]) {
                Some(carrier) => format!("{carrier}: {message}"),
                None => message,
            })
        })
        .collect();
    let delivery = &body["to_address"]["verifications"]["delivery"];
    let address_problem = (delivery["success"] == Value::Bool(false)).then(|| {
        let errors: Vec<String> = delivery["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| text(&e["message"]))
            .collect();
        words(
            (!errors.is_empty()).then(|| errors.join("; ")),
            "the carrier could not verify the address for delivery",
        )
    });
    Ok(Quote {
        shipment_id,
        rates,
        messages,
        address_problem,
    })
}

/// The bought label of a shipment, if it has one.
pub fn read_label(body: &Value) -> Option<Label> {
    let tracking_code = text(&body["tracking_code"])?;
    let postage = &body["postage_label"];
    let label_url = text(&postage["label_pdf_url"])
        .or_else(|| text(&postage["label_zpl_url"]))
        .or_else(|| text(&postage["label_url"]))?;
    let rate = &body["selected_rate"];
    let tracker = &body["tracker"];
    Some(Label {
        refund_id: text(&body["id"])?,
        tracking_code,
        label_url,
        tracker_id: text(&tracker["id"]),
        public_url: text(&tracker["public_url"]),
        carrier: text(&rate["carrier"]).unwrap_or_default(),
        service: text(&rate["service"]).unwrap_or_default(),
        cost: decimal(&rate["rate"]).unwrap_or_default(),
        currency: text(&rate["currency"]).unwrap_or_else(|| "USD".into()),
    })
}

/// `refund_status` of a shipment: submitted, refunded, rejected or not_applicable.
pub fn read_refund_status(body: &Value) -> RefundStatus {
    match body["refund_status"].as_str() {
        Some("refunded") => RefundStatus::Refunded,
        Some("rejected") => RefundStatus::Rejected("EasyPost rejected the refund".into()),
        Some("not_applicable") => {
            RefundStatus::Rejected("the carrier does not refund this label".into())
        }
        _ => RefundStatus::Submitted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/easypost/api/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn a_created_shipment_is_its_rates() {
        let q = read_quote(&fixture("shipment_buy_1_POST_201.json")["response"]["body"]).unwrap();
        assert_eq!(q.shipment_id, "shp_16578f588f9546ec914afd2474e24ff5");
        let mut prices: Vec<(String, Decimal)> = q
            .rates
            .iter()
            .map(|r| (r.service.clone(), r.price))
            .collect();
        prices.sort();
        assert_eq!(
            prices,
            vec![
                ("Express".into(), "34.15".parse().unwrap()),
                ("GroundAdvantage".into(), "6.07".parse().unwrap()),
                ("Priority".into(), "7.42".parse().unwrap()),
            ]
        );
        let express = q.rates.iter().find(|r| r.service == "Express").unwrap();
        assert_eq!(express.carrier, "USPS");
        assert_eq!(express.delivery_days, Some(1));
        assert_eq!(express.currency, "USD");
        assert!(q.address_problem.is_none());
        assert!(read_label(&fixture("shipment_buy_1_POST_201.json")["response"]["body"]).is_none());
    }

    #[test]
    fn a_bought_shipment_is_its_label_tracking_code_and_tracker() {
        let label =
            read_label(&fixture("shipment_buy_2_POST_200.json")["response"]["body"]).unwrap();
        assert_eq!(label.tracking_code, "9400100208303109505657");
        assert_eq!(label.refund_id, "shp_16578f588f9546ec914afd2474e24ff5");
        assert!(label.label_url.ends_with(".png"), "{}", label.label_url);
        assert_eq!(
            label.tracker_id.as_deref(),
            Some("trk_279431562ef84af89555e5c8a2029b2f")
        );
        assert!(
            label
                .public_url
                .unwrap()
                .starts_with("https://track.easypost.com/")
        );
        assert_eq!(
            (label.carrier.as_str(), label.service.as_str()),
            ("USPS", "GroundAdvantage")
        );
        assert_eq!(label.cost, "6.07".parse::<Decimal>().unwrap());
        // One-call buy: the created shipment already has its label.
        let one_call = read_label(&fixture("shipment_refund_1_POST_201.json")["response"]["body"]);
        assert!(one_call.is_some());
    }

    #[test]
    fn refund_status_and_errors_are_read_in_easyposts_words() {
        assert_eq!(
            read_refund_status(&fixture("shipment_refund_2_POST_200.json")["response"]["body"]),
            RefundStatus::Submitted
        );
        assert_eq!(
            read_refund_status(&json!({ "refund_status": "refunded" })),
            RefundStatus::Refunded
        );
        let error = fixture("error_shipment_create_1_POST_422.json");
        assert_eq!(
            read_error(422, &error["response"]["body"]),
            "EasyPost PARAMETER.REQUIRED: Missing required parameter. (shipment cannot be blank)"
        );
        assert_eq!(
            read_error(500, &Value::Null),
            "EasyPost: EasyPost answered HTTP 500"
        );
    }

    fn spec(to_country: &str) -> ParcelSpec {
        let place = |name: &str, country: &str| Address {
            name: Some(name.into()),
            line1: "1 Dock Road".into(),
            city: "Leeds".into(),
            postal_code: Some("LS1 4AP".into()),
            country: country.into(),
            ..Address::default()
        };
        ParcelSpec {
            reference: "#1001-1".into(),
            from: place("North warehouse", "US"),
            to: place("Ada Lovelace", to_country),
            weight_grams: 1000,
            dimensions_mm: [300, 200, 100],
            customs: vec![CustomsLine {
                description: "Cotton shirt".into(),
                quantity: 2,
                weight_grams: 400,
                value: "46.50".parse().unwrap(),
                currency: "USD".into(),
                hs_code: Some("610910".into()),
                origin_country: "PT".into(),
            }],
            customs_signer: "Jane Merchant".into(),
            label_format: LabelFormat::Pdf,
            is_return: false,
        }
    }

    #[test]
    fn the_shipment_body_is_easyposts_units_and_customs_only_abroad() {
        let body = shipment_body(&spec("GB"), &["ca_1".into()]);
        let s = &body["shipment"];
        assert_eq!(s["parcel"]["weight"], json!(35.3));
        assert_eq!(s["parcel"]["length"], json!(11.9));
        assert_eq!(s["options"]["label_format"], "PDF");
        assert_eq!(s["to_address"]["street1"], "1 Dock Road");
        assert_eq!(s["to_address"]["zip"], "LS1 4AP");
        assert_eq!(s["carrier_accounts"], json!(["ca_1"]));
        let item = &s["customs_info"]["customs_items"][0];
        assert_eq!(item["hs_tariff_number"], "610910");
        assert_eq!(item["origin_country"], "PT");
        assert_eq!(item["value"], "46.50");
        assert_eq!(s["customs_info"]["eel_pfc"], "NOEEI 30.37(a)");
        let domestic = shipment_body(&spec("US"), &[]);
        assert!(domestic["shipment"].get("customs_info").is_none());
        assert!(domestic["shipment"].get("carrier_accounts").is_none());
        let mut ret = spec("US");
        ret.is_return = true;
        assert_eq!(shipment_body(&ret, &[])["shipment"]["is_return"], true);
    }

    #[test]
    fn ids_are_checked_before_they_become_a_path() {
        assert!(path_segment("shp_16578f588f9546ec914afd2474e24ff5").is_ok());
        for bad in ["", "../v2/users", "shp_1/refund", "shp?x=1"] {
            assert!(path_segment(bad).is_err(), "{bad}");
        }
    }
}
