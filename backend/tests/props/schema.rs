//! Values shaped by a published JSON schema, for platforms whose real payloads are not at
//! hand: Etsy's receipt (no recorded receipt exists, see fixtures/SOURCES.md).

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::fixture;
use crate::strategies::{edge_text, leaf};

/// A receipt built from Etsy's published schema (no recorded receipt exists, see
/// fixtures/SOURCES.md): every property of the declared type, or an awkward value, or absent;
/// plus the fields the live API added since.
pub fn etsy_receipt() -> BoxedStrategy<Value> {
    let schema = fixture("etsy/openapi_2021_ShopReceipt_schemas.json");
    let transaction = object(&schema, "ShopReceiptTransaction", &["sku", "variations"]);
    let receipt = object(
        &schema,
        "ShopReceipt",
        &[
            "buyer_email",
            "status",
            "updated_timestamp",
            "created_timestamp",
        ],
    );
    (receipt, prop::collection::vec(transaction, 0..4))
        .prop_map(|(mut r, transactions)| {
            r["transactions"] = Value::Array(transactions);
            r
        })
        .boxed()
}

/// An object of `name`'s properties (and `extra` ones), each of its declared type mostly.
fn object(schema: &Value, name: &str, extra: &[&'static str]) -> BoxedStrategy<Value> {
    let props = schema[name]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut fields: Vec<(String, BoxedStrategy<Value>)> = props
        .iter()
        .map(|(k, p)| (k.clone(), of_type(schema, p)))
        .collect();
    fields.extend(extra.iter().map(|k| (k.to_string(), leaf().boxed())));
    fields
        .into_iter()
        .fold(Just(Map::new()).boxed(), |acc, (k, value)| {
            (acc, prop::option::weighted(0.9, value))
                .prop_map(move |(mut map, v)| {
                    if let Some(v) = v {
                        map.insert(k.clone(), v);
                    }
                    map
                })
                .boxed()
        })
        .prop_map(Value::Object)
        .boxed()
}

fn of_type(schema: &Value, p: &Value) -> BoxedStrategy<Value> {
    let reference = p["allOf"][0]["$ref"]
        .as_str()
        .or_else(|| p["items"]["allOf"][0]["$ref"].as_str());
    let declared = match (p["type"].as_str(), reference) {
        (Some("array"), Some(r)) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            prop::collection::vec(object(schema, name, &[]), 0..3)
                .prop_map(Value::Array)
                .boxed()
        }
        (_, Some(r)) => object(schema, r.rsplit('/').next().unwrap_or_default(), &[]),
        (Some("integer"), _) => {
            let low = p["minimum"].as_i64().unwrap_or(-10_000);
            (low..low.saturating_add(2_000_000_000))
                .prop_map(Value::from)
                .boxed()
        }
        (Some("boolean"), _) => any::<bool>().prop_map(Value::Bool).boxed(),
        _ => edge_text().prop_map(Value::String).boxed(),
    };
    prop_oneof![4 => declared, 1 => leaf()].boxed()
}
