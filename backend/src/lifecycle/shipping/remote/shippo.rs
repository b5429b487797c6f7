//! Shippo's API: a shipment (addresses, parcels, customs declaration inline) comes back with
//! its rates; a transaction buys one rate and may finish later (QUEUED, then SUCCESS or
//! ERROR); a refund gives a bought label's postage back. Authentication is the header
//! `Authorization: ShippoToken <key>`. Errors are a map of field to messages, or carrier
//! `messages` on the object.

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{
    Account, Label, LabelFormat, ParcelSpec, Purchase, Quote, RefundStatus, RemoteError,
    RemoteRate, words,
};
use crate::domain::address::Address;
use crate::infra::outbound::Answer;
use crate::infra::outbound::api::{Client, json_of};

pub const DEFAULT_API: &str = "https://api.goshippo.com";

/// How many pages of recent transactions are searched for one sent before a crash.
const RECOVERY_PAGES: usize = 3;

/// A tenant's Shippo account.
pub struct Shippo<'a> {
    pub client: &'a Client,
    pub account: &'a Account,
}

/// The rate a transaction bought, to describe the label (a transaction does not repeat it).
pub struct Bought<'a> {
    pub rate: &'a RemoteRate,
}

impl Shippo<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.account.base.trim_end_matches('/'))
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.at(method, &self.url(path))
    }

    fn at(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        self.client.request(method, url).header(
            reqwest::header::AUTHORIZATION,
            format!("ShippoToken {}", self.account.api_key),
        )
    }

    /// Whether the key works: the newest transactions listed (the connection test).
    pub async fn check(&self) -> Result<(), RemoteError> {
        let url = self.url("transactions/?results=1");
        let build = || self.at(Method::GET, &url);
        let body = answer_json(&self.client.exchange("Shippo", &build).await?)?;
        if body["results"].is_array() {
            Ok(())
        } else {
            Err(RemoteError::Refused(
                "the API answered, but not as Shippo does".into(),
            ))
        }
    }

    /// Creates the shipment and waits for its rates (`async: false`).
    pub async fn quote(&self, spec: &ParcelSpec) -> Result<Quote, RemoteError> {
        let body = shipment_body(spec, &self.account.carrier_accounts);
        let build = || self.request(Method::POST, "shipments/").json(&body);
        let res = self.client.exchange("Shippo shipment", &build).await?;
        read_quote(&answer_json(&res)?)
    }

    /// Buys `rate`, sent once; `key` goes into the transaction's metadata so that a purchase
    /// whose answer was lost can be found again ([`Shippo::find`]).
    pub async fn buy(
        &self,
        rate: &RemoteRate,
        format: LabelFormat,
        key: &str,
    ) -> Result<Purchase, RemoteError> {
        let request = self.request(Method::POST, "transactions/").json(&json!({
            "rate": rate.id,
            "label_file_type": label_file_type(format),
            "async": false,
            "metadata": key,
        }));
        let res = self.client.once("Shippo label purchase", request).await?;
        read_transaction(&answer_json(&res)?, &Bought { rate })
    }

    /// A transaction again (QUEUED until Shippo has bought the label).
    pub async fn transaction(&self, id: &str, rate: &RemoteRate) -> Result<Purchase, RemoteError> {
        let path = format!("transactions/{}", path_segment(id)?);
        let build = || self.request(Method::GET, &path);
        let res = self.client.exchange("Shippo transaction", &build).await?;
        read_transaction(&answer_json(&res)?, &Bought { rate })
    }

    /// The transaction sent for `rate` with metadata `key`, among the newest ones, if Shippo
    /// has it: asked before buying again after an attempt whose answer was lost.
    pub async fn find(
        &self,
        rate: &RemoteRate,
        key: &str,
    ) -> Result<Option<Purchase>, RemoteError> {
        let mut url = self.url("transactions/");
        for _ in 0..RECOVERY_PAGES {
            let build = || self.at(Method::GET, &url);
            let (page, next) = self
                .client
                .json_with_next_in_body("Shippo transactions", &build, "next")
                .await?;
            let found = page["results"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["rate"] == rate.id.as_str() && t["metadata"] == key);
            if let Some(t) = found {
                return read_transaction(t, &Bought { rate }).map(Some);
            }
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
        Ok(None)
    }

    /// Asks for the postage of a bought label back.
    pub async fn refund(&self, transaction: &str) -> Result<RefundStatus, RemoteError> {
        let build = || {
            self.request(Method::POST, "refunds/")
                .json(&json!({ "transaction": transaction, "async": false }))
        };
        let res = self.client.exchange("Shippo refund", &build).await?;
        Ok(read_refund(&answer_json(&res)?))
    }
}

fn path_segment(id: &str) -> Result<&str, RemoteError> {
    let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(id)
        .ok_or_else(|| RemoteError::Refused(format!("{id:?} is not a Shippo id")))
}

fn answer_json(res: &Answer) -> Result<Value, RemoteError> {
    if res.status.is_success() {
        return Ok(json_of("Shippo", res)?);
    }
    let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
    Err(RemoteError::Refused(read_error(res.status.as_u16(), &body)))
}

/// Shippo's refusal in words: `{"field": ["message", …]}` or `{"detail": "…"}`.
pub fn read_error(status: u16, body: &Value) -> String {
    let Some(map) = body.as_object() else {
        return format!("Shippo answered HTTP {status}");
    };
    if let Some(detail) = map.get("detail").and_then(Value::as_str) {
        return format!("Shippo: {detail}");
    }
    let mut fields: Vec<String> = map
        .iter()
        .map(|(field, messages)| {
            let said: Vec<&str> = match messages {
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                Value::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            format!("{field}: {}", said.join(" "))
        })
        .collect();
    fields.sort();
    if fields.is_empty() {
        format!("Shippo answered HTTP {status}")
    } else {
        format!("Shippo refused: {}", fields.join("; "))
    }
}

fn label_file_type(format: LabelFormat) -> &'static str {
    match format {
        LabelFormat::Pdf => "PDF_4x6",
        LabelFormat::Zpl => "ZPLII",
    }
}

fn address(a: &Address) -> Value {
    json!({
        "name": a.name.clone().unwrap_or_default(),
        "company": a.company,
        "street1": a.line1,
        "street2": a.line2,
        "city": a.city,
        "state": a.region,
        "zip": a.postal_code,
        "country": a.country,
        "phone": a.phone,
        "validate": true,
    })
}

/// Weight in grams and lengths in centimetres: Shippo takes both units.
fn centimetres(mm: u32) -> String {
    format!("{:.1}", f64::from(mm) / 10.0)
}

/// The `POST /shipments/` body for a parcel.
pub fn shipment_body(spec: &ParcelSpec, carrier_accounts: &[String]) -> Value {
    let [length, width, height] = spec.dimensions_mm;
    let mut shipment = json!({
        "address_from": address(&spec.from),
        "address_to": address(&spec.to),
        "parcels": [{
            "length": centimetres(length),
            "width": centimetres(width),
            "height": centimetres(height),
            "distance_unit": "cm",
            "weight": spec.weight_grams.to_string(),
            "mass_unit": "g",
        }],
        "async": false,
        "metadata": spec.reference,
    });
    if spec.is_return {
        shipment["extra"] = json!({ "is_return": true });
    }
    if spec.is_international() && !spec.customs.is_empty() {
        let items: Vec<Value> = spec
            .customs
            .iter()
            .map(|l| {
                json!({
                    "description": l.description,
                    "quantity": l.quantity,
                    "net_weight": l.weight_grams.to_string(),
                    "mass_unit": "g",
                    "value_amount": l.value.to_string(),
                    "value_currency": l.currency,
                    "tariff_number": l.hs_code,
                    "origin_country": l.origin_country,
                })
            })
            .collect();
        shipment["customs_declaration"] = json!({
            "certify": true,
            "certify_signer": spec.customs_signer,
            "contents_type": "MERCHANDISE",
            "non_delivery_option": "RETURN",
            "items": items,
        });
    }
    if !carrier_accounts.is_empty() {
        shipment["carrier_accounts"] = json!(carrier_accounts);
    }
    shipment
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn messages(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let said = text(&m["text"])?;
            Some(match text(&m["source"]) {
                Some(source) => format!("{source}: {said}"),
                None => said,
            })
        })
        .collect()
}

fn read_rate(r: &Value) -> Option<RemoteRate> {
    Some(RemoteRate {
        id: text(&r["object_id"])?,
        carrier: text(&r["provider"])?,
        service: text(&r["servicelevel"]["name"])?,
        price: text(&r["amount"])?.parse::<Decimal>().ok()?,
        currency: text(&r["currency"]).unwrap_or_else(|| "USD".into()),
        delivery_days: r["estimated_days"]
            .as_u64()
            .or_else(|| r["days"].as_u64())
            .and_then(|d| u32::try_from(d).ok()),
        delivery_date: r["arrives_by"]
            .as_str()
            .and_then(|d| d.get(..10))
            .and_then(|d| d.parse().ok()),
        carrier_account: text(&r["carrier_account"]),
    })
}

/// A shipment's id, its rates, the carriers' messages and the destination's validation.
pub fn read_quote(body: &Value) -> Result<Quote, RemoteError> {
    let shipment_id = text(&body["object_id"])
        .ok_or_else(|| RemoteError::Refused("Shippo's answer has no shipment id".into()))?;
    if body["status"] == "ERROR" {
        return Err(RemoteError::Refused(words(
            Some(messages(body).join("; ")),
            "Shippo could not rate the shipment",
        )));
    }
    let validation = &body["address_to"]["validation_results"];
    let address_problem = (validation["is_valid"] == Value::Bool(false)).then(|| {
        words(
            Some(messages(validation).join("; ")),
            "the carrier could not validate the address",
        )
    });
    Ok(Quote {
        shipment_id,
        rates: body["rates"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(read_rate)
            .collect(),
        messages: messages(body),
        address_problem,
    })
}

/// A transaction: bought (SUCCESS), still being bought (QUEUED, WAITING), or refused (ERROR,
/// with the carrier's messages).
pub fn read_transaction(body: &Value, bought: &Bought<'_>) -> Result<Purchase, RemoteError> {
    let id = text(&body["object_id"])
        .ok_or_else(|| RemoteError::Refused("Shippo's answer has no transaction id".into()))?;
    match body["status"].as_str() {
        Some("SUCCESS") => {
            let tracking_code = text(&body["tracking_number"]).ok_or_else(|| {
                RemoteError::Refused("Shippo bought a label without a tracking number".into())
            })?;
            let label_url = text(&body["label_url"]).ok_or_else(|| {
                RemoteError::Refused("Shippo bought a label without a label file".into())
            })?;
            Ok(Purchase::Bought(Label {
                refund_id: id,
                tracking_code,
                label_url,
                tracker_id: None,
                public_url: text(&body["tracking_url_provider"]),
                carrier: bought.rate.carrier.clone(),
                service: bought.rate.service.clone(),
                cost: bought.rate.price,
                currency: bought.rate.currency.clone(),
            }))
        }
        Some("ERROR" | "REFUNDED" | "REFUNDPENDING") => Err(RemoteError::Refused(words(
            Some(messages(body).join("; ")),
            "Shippo could not buy the label",
        ))),
        _ => Ok(Purchase::Pending { transaction_id: id }),
    }
}

/// A refund's status: QUEUED and PENDING are still open.
pub fn read_refund(body: &Value) -> RefundStatus {
    match body["status"].as_str() {
        Some("SUCCESS") => RefundStatus::Refunded,
        Some("ERROR") => RefundStatus::Rejected(words(
            Some(messages(body).join("; ")),
            "Shippo could not refund the label",
        )),
        _ => RefundStatus::Submitted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::shipping::remote::CustomsLine;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/shippo/api/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn a_shipment_is_its_rates_and_the_carriers_warnings() {
        let q =
            read_quote(&fixture("transaction_create_4_POST_201.json")["response"]["body"]).unwrap();
        assert_eq!(q.shipment_id, "f114687f56084b969b7392192f5c3198");
        assert_eq!(q.rates.len(), 22);
        let fedex = q
            .rates
            .iter()
            .find(|r| r.id == "c08e3292858946429a90d1b432c6548c")
            .unwrap();
        assert_eq!(
            (fedex.carrier.as_str(), fedex.service.as_str()),
            ("FedEx", "Ground")
        );
        assert_eq!(fedex.price, "13.05".parse::<Decimal>().unwrap());
        assert_eq!(fedex.delivery_days, Some(1));
        assert!(
            q.messages
                .iter()
                .any(|m| m.starts_with("UPS: RatedShipmentWarning")),
            "{:?}",
            q.messages
        );
        assert!(q.address_problem.is_none());
    }

    fn rate() -> RemoteRate {
        RemoteRate {
            id: "5b4754eaa54c4912bad8ac7c1818304f".into(),
            carrier: "USPS".into(),
            service: "Priority Mail".into(),
            price: "7.42".parse().unwrap(),
            currency: "USD".into(),
            delivery_days: Some(2),
            delivery_date: None,
            carrier_account: None,
        }
    }

    #[test]
    fn transactions_are_queued_bought_or_refused() {
        let r = rate();
        let queued = read_transaction(
            &fixture("transaction_create_7_POST_201.json")["response"]["body"],
            &Bought { rate: &r },
        )
        .unwrap();
        assert_eq!(
            queued,
            Purchase::Pending {
                transaction_id: "0cea366887e54c93aabe57d57084ded1".into()
            }
        );
        let list = fixture("transaction_list_1_GET_200.json");
        let results = list["response"]["body"]["results"].as_array().unwrap();
        let success = results.iter().find(|t| t["status"] == "SUCCESS").unwrap();
        let Purchase::Bought(label) = read_transaction(success, &Bought { rate: &r }).unwrap()
        else {
            panic!("not bought");
        };
        assert_eq!(label.tracking_code, "9205590164917310132354");
        assert_eq!(label.refund_id, "f3b5b88d350b4a02922dcec49b781ffd");
        assert!(label.label_url.contains(".pdf"));
        assert_eq!(label.cost, r.price);
        let error = results
            .iter()
            .find(|t| t["object_id"] == "9119fb6e46734fedaff7ce2c243fd2d5")
            .unwrap();
        assert_eq!(
            read_transaction(error, &Bought { rate: &r }),
            Err(RemoteError::Refused(
                "UPS: Hard: Missing or invalid shipper number".into()
            ))
        );
    }

    #[test]
    fn refusals_and_refunds_in_shippos_words() {
        let e = fixture("error_shipment_create_1_POST_400.json");
        assert_eq!(
            read_error(400, &e["response"]["body"]),
            "Shippo refused: address_to: This field is required.; customs_declaration: \
             CustomsDeclaration with supplied object_id b741b99f95e841639b54272834bc478c not \
             found.; parcels: This field is required."
        );
        let e = fixture("error_transaction_create_1_POST_400.json");
        assert_eq!(
            read_error(400, &e["response"]["body"]),
            "Shippo refused: rate: This field is required."
        );
        let refund = fixture("docs_refund_create_POST_201.json");
        assert_eq!(
            read_refund(&refund["response"]["body"]),
            RefundStatus::Refunded
        );
        assert_eq!(
            read_refund(&json!({ "status": "QUEUED" })),
            RefundStatus::Submitted
        );
    }

    #[test]
    fn the_shipment_body_is_inline_with_customs_abroad() {
        let place = |country: &str| Address {
            name: Some("A".into()),
            line1: "1 Dock Road".into(),
            city: "Leeds".into(),
            country: country.into(),
            ..Address::default()
        };
        let mut spec = ParcelSpec {
            reference: "#1001-1".into(),
            from: place("GB"),
            to: place("US"),
            weight_grams: 850,
            dimensions_mm: [305, 200, 95],
            customs: vec![CustomsLine {
                description: "Mug".into(),
                quantity: 1,
                weight_grams: 850,
                value: "12.00".parse().unwrap(),
                currency: "GBP".into(),
                hs_code: Some("691200".into()),
                origin_country: "GB".into(),
            }],
            customs_signer: "Jane Merchant".into(),
            label_format: LabelFormat::Zpl,
            is_return: false,
        };
        let body = shipment_body(&spec, &[]);
        assert_eq!(body["parcels"][0]["weight"], "850");
        assert_eq!(body["parcels"][0]["length"], "30.5");
        assert_eq!(
            body["customs_declaration"]["items"][0]["tariff_number"],
            "691200"
        );
        assert_eq!(body["async"], false);
        spec.to = place("GB");
        assert!(
            shipment_body(&spec, &[])
                .get("customs_declaration")
                .is_none()
        );
        assert_eq!(label_file_type(LabelFormat::Zpl), "ZPLII");
    }
}
