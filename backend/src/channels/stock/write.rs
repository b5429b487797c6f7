//! Each platform's stock write, in its bulk form where it has one: Shopify's
//! `inventorySetQuantities` (250 items at the connection's location a call), WooCommerce's batch update
//! of products and variations, BigCommerce's absolute inventory adjustment, Amazon's
//! listings patch of `fulfillment_availability`, Etsy's listing inventory (read, changed,
//! written whole, as its API wants). Every write is absolute: sending it twice is harmless.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::feed;
use super::listings::Listing;
use super::shop::{Api, CallError, Shop};
use crate::channels::Platform;
use crate::channels::amazon::enc;

/// A figure to put on one listing.
pub struct Figure<'a> {
    pub listing: &'a Listing,
    pub quantity: i64,
}

/// Per figure, in order: written, or the platform's refusal of that item.
pub type Results = Vec<Result<(), String>>;

/// What a write did: each figure's result, and the Amazon listings feed that carries them
/// when they went as one (its report is read later).
pub struct Written {
    pub results: Results,
    pub feed: Option<String>,
}

/// Listings written per run.
pub fn batch(platform: Platform) -> u64 {
    match platform {
        // One GraphQL mutation sets 250.
        Platform::Shopify => 250,
        // A batch call takes 100 (simple products, or one variable product's variations).
        Platform::Woocommerce | Platform::Bigcommerce => 100,
        // A patch each up to ten, a listings feed beyond (see `feed`).
        Platform::Amazon => feed::MOST,
        // A read and a write per listing.
        Platform::Etsy => 5,
    }
}

/// The calls writing `figures` costs: Shopify one per 250, WooCommerce one per batch (simple
/// products, and each variable product's variations), BigCommerce one, Amazon one each (or
/// two for a feed: its document and the feed), Etsy a read and a write per listing.
pub fn calls(platform: Platform, figures: &[Figure<'_>]) -> u32 {
    let distinct = |key: &dyn Fn(&Figure<'_>) -> Option<String>| {
        figures
            .iter()
            .map(key)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let n = match platform {
        Platform::Shopify => figures.len().div_ceil(250),
        Platform::Woocommerce => distinct(&|f| {
            f.listing
                .remote_variant
                .as_ref()
                .map(|_| f.listing.remote_product.clone())
        }),
        Platform::Bigcommerce => 1,
        Platform::Amazon if figures.len() > feed::PATCH_UP_TO => 2,
        Platform::Amazon => figures.len(),
        Platform::Etsy => 2 * distinct(&|f| Some(f.listing.remote_product.clone())),
    };
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// Writes the figures. `Err` when nothing can be written now (the platform is down, or the
/// connection's access refused); an item the platform refuses is that item's error.
pub async fn write(
    shop: &Shop<'_>,
    location: Option<&str>,
    figures: &[Figure<'_>],
) -> Result<Written, CallError> {
    let results = match &shop.api {
        Api::Shopify(_) => shopify(shop, location, figures).await,
        Api::Woocommerce(_) => woocommerce(shop, figures).await,
        Api::Bigcommerce(_) => bigcommerce(shop, location, figures).await,
        Api::Amazon { api, seller, .. } if figures.len() > feed::PATCH_UP_TO => {
            let marketplace = api
                .marketplace()
                .map_err(|e| CallError::Access(e.to_string()))?;
            let id = feed::submit(shop, seller, marketplace, figures).await?;
            return Ok(Written {
                results: figures.iter().map(|_| Ok(())).collect(),
                feed: Some(id),
            });
        }
        Api::Amazon { seller, .. } => amazon(shop, seller, figures).await,
        Api::Etsy(_) => etsy(shop, figures).await,
    }?;
    Ok(Written {
        results,
        feed: None,
    })
}

/// An item's own refusal stays with it; trouble with the platform or the access stops all.
fn per_item(r: Result<Value, CallError>) -> Result<Result<Value, String>, CallError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(CallError::Refused(words)) => Ok(Err(words)),
        Err(other) => Err(other),
    }
}

/// Shopify's `inventorySetQuantities` (Admin GraphQL 2026-07): up to 250 absolute
/// `available` figures at the connection's location in one call, each opting out of the
/// compare-and-set (`changeFromQuantity: null`: Orderflow is the stock master), with the
/// idempotency key the API requires since 2026-04 (one per write, kept across its retries).
async fn shopify(
    shop: &Shop<'_>,
    location: Option<&str>,
    figures: &[Figure<'_>],
) -> Result<Results, CallError> {
    let Some(location) = location.filter(|l| number(l).is_some()) else {
        return Err(CallError::Access(
            "no Shopify location to set stock at: read the catalog, or set the \
             connection's stock location"
                .into(),
        ));
    };
    let mut out: Results = figures.iter().map(|_| Ok(())).collect();
    let mut todo: Vec<usize> = Vec::new();
    for (i, f) in figures.iter().enumerate() {
        match f
            .listing
            .remote_item
            .as_deref()
            .filter(|i| number(i).is_some())
        {
            Some(_) => todo.push(i),
            None => out[i] = Err("the listing has no Shopify inventory item".into()),
        }
    }
    // A refused item fails the whole mutation: it is sent again without the items named.
    for _ in 0..2 {
        if todo.is_empty() {
            break;
        }
        let body = shopify_set(
            location,
            &todo.iter().map(|&i| &figures[i]).collect::<Vec<_>>(),
        );
        let answer = shop
            .call(
                "Shopify inventorySetQuantities",
                Method::POST,
                "graphql.json",
                Some(&body),
            )
            .await?;
        match shopify_refused(&answer)? {
            refused if refused.is_empty() => return Ok(out),
            refused => {
                let mut left = Vec::new();
                for (n, &i) in todo.iter().enumerate() {
                    match refused.iter().find(|(at, _)| *at == Some(n)) {
                        Some((_, why)) => out[i] = Err(why.clone()),
                        None => left.push(i),
                    }
                }
                // Errors naming no item: every item carries them.
                if let Some((_, why)) = refused.iter().find(|(at, _)| at.is_none()) {
                    for &i in &left {
                        out[i] = Err(why.clone());
                    }
                    return Ok(out);
                }
                todo = left;
            }
        }
    }
    for &i in &todo {
        out[i] = Err("Shopify refused the batch twice".into());
    }
    Ok(out)
}

const SET_QUANTITIES: &str = "mutation inventorySetQuantities($input: InventorySetQuantitiesInput!, $key: String!) { inventorySetQuantities(input: $input) @idempotent(key: $key) { inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } } userErrors { field message code } } }";

/// The `inventorySetQuantities` request for `figures` at `location`, with a new idempotency key.
pub fn shopify_set(location: &str, figures: &[&Figure<'_>]) -> Value {
    let quantities: Vec<Value> = figures
        .iter()
        .map(|f| {
            json!({
                "inventoryItemId": format!("gid://shopify/InventoryItem/{}", f.listing.remote_item.as_deref().unwrap_or_default()),
                "locationId": format!("gid://shopify/Location/{location}"),
                "quantity": f.quantity,
                "changeFromQuantity": null,
            })
        })
        .collect();
    json!({
        "query": SET_QUANTITIES,
        "variables": {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": "gid://orderflow/StockSync/channel",
                "quantities": quantities,
            },
            "key": uuid::Uuid::new_v4().to_string(),
        },
    })
}

/// What Shopify refused in an `inventorySetQuantities` answer: per item (its index in the
/// request's quantities) or for all (`None`); `Err` when the call itself did not run (Shopify
/// throttled it, or answered with top-level errors).
pub fn shopify_refused(answer: &Value) -> Result<Vec<(Option<usize>, String)>, CallError> {
    if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
        let words: Vec<&str> = errors
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        let throttled = errors
            .iter()
            .any(|e| e["extensions"]["code"].as_str() == Some("THROTTLED"));
        let why = format!("Shopify: {}", words.join("; "));
        return Err(if throttled {
            CallError::Down(why)
        } else {
            CallError::Refused(why)
        });
    }
    let payload = &answer["data"]["inventorySetQuantities"];
    if !payload.is_object() {
        return Err(CallError::Refused(
            "Shopify's answer has no inventorySetQuantities".into(),
        ));
    }
    Ok(payload["userErrors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let field: Vec<&str> = e["field"]
                .as_array()
                .map(|f| f.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let at = match field.as_slice() {
                ["input", "quantities", n, ..] => n.parse().ok(),
                _ => None,
            };
            (
                at,
                format!("Shopify: {}", e["message"].as_str().unwrap_or("refused")),
            )
        })
        .collect())
}

/// A platform id that is a number, as such (it goes into a JSON body as a number).
fn number(id: &str) -> Option<i64> {
    id.trim().parse().ok()
}

async fn woocommerce(shop: &Shop<'_>, figures: &[Figure<'_>]) -> Result<Results, CallError> {
    // Simple products in one batch, each variable product's variations in one of theirs.
    let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for (i, f) in figures.iter().enumerate() {
        let parent = f
            .listing
            .remote_variant
            .as_ref()
            .map(|_| f.listing.remote_product.as_str());
        groups.entry(parent).or_default().push(i);
    }
    let mut out: Vec<Result<(), String>> = figures.iter().map(|_| Ok(())).collect();
    for (parent, members) in groups {
        let id_of = |f: &Figure<'_>| {
            number(
                f.listing
                    .remote_variant
                    .as_deref()
                    .unwrap_or(&f.listing.remote_product),
            )
        };
        let update: Vec<Value> = members
            .iter()
            .filter_map(|&i| {
                let f = &figures[i];
                Some(json!({ "id": id_of(f)?, "manage_stock": true, "stock_quantity": f.quantity }))
            })
            .collect();
        let path = match parent {
            Some(p) => match number(p) {
                Some(p) => format!("products/{p}/variations/batch"),
                None => {
                    for &i in &members {
                        out[i] = Err(format!("{p:?} is not a WooCommerce product id"));
                    }
                    continue;
                }
            },
            None => "products/batch".to_owned(),
        };
        let answer = per_item(
            shop.call(
                "WooCommerce batch update",
                Method::POST,
                &path,
                Some(&json!({ "update": update })),
            )
            .await,
        )?;
        for &i in &members {
            let f = &figures[i];
            out[i] = match (&answer, id_of(f)) {
                (_, None) => Err("the listing's WooCommerce id is not a number".into()),
                (Err(words), _) => Err(words.clone()),
                (Ok(answer), Some(id)) => woo_item(answer, id, f.quantity),
            };
        }
    }
    Ok(out)
}

/// What a WooCommerce batch answer says of one item: its stock, or its error.
fn woo_item(answer: &Value, id: i64, quantity: i64) -> Result<(), String> {
    let item = answer["update"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"].as_i64() == Some(id)));
    match item {
        None => Err(format!("WooCommerce's answer does not mention {id}")),
        Some(i) if i["error"].is_object() => Err(format!(
            "WooCommerce: {}",
            i["error"]["message"].as_str().unwrap_or("refused")
        )),
        Some(i) if i["stock_quantity"].as_i64() == Some(quantity) => Ok(()),
        Some(i) => Err(format!(
            "WooCommerce holds {} after setting {quantity}",
            i["stock_quantity"]
        )),
    }
}

async fn bigcommerce(
    shop: &Shop<'_>,
    location: Option<&str>,
    figures: &[Figure<'_>],
) -> Result<Results, CallError> {
    // The store's default location is 1.
    let location = location.and_then(number).unwrap_or(1);
    let items: Vec<Value> = figures
        .iter()
        .map(|f| match f.listing.remote_variant.as_deref().and_then(number) {
            Some(v) => json!({ "location_id": location, "variant_id": v, "quantity": f.quantity }),
            None => json!({ "location_id": location, "product_id": number(&f.listing.remote_product), "quantity": f.quantity }),
        })
        .collect();
    let body = json!({ "reason": "Orderflow stock sync", "items": items });
    // Asynchronous on BigCommerce's side: a transaction id says it was taken.
    let answer = per_item(
        shop.call(
            "BigCommerce absolute adjustment",
            Method::PUT,
            "inventory/adjustments/absolute",
            Some(&body),
        )
        .await,
    )?;
    Ok(figures
        .iter()
        .map(|_| answer.as_ref().map(|_| ()).map_err(Clone::clone))
        .collect())
}

/// Amazon's patch of a listing's quantity (the shape of its JSON listings feed example).
pub fn amazon_patch(quantity: i64) -> Value {
    json!({
        "productType": "PRODUCT",
        "patches": [{
            "op": "replace",
            "path": "/attributes/fulfillment_availability",
            "value": [{ "fulfillment_channel_code": "DEFAULT", "quantity": quantity }],
        }],
    })
}

async fn amazon(
    shop: &Shop<'_>,
    seller: &str,
    figures: &[Figure<'_>],
) -> Result<Results, CallError> {
    let Api::Amazon { api, .. } = &shop.api else {
        return Ok(Vec::new());
    };
    let marketplace = api
        .marketplace()
        .map_err(|e| CallError::Access(e.to_string()))?;
    let mut out = Vec::with_capacity(figures.len());
    for f in figures {
        let path = format!(
            "/listings/2021-08-01/items/{}/{}?marketplaceIds={}",
            enc(seller),
            enc(&f.listing.sku),
            enc(marketplace)
        );
        let r = shop
            .call(
                "Amazon patchListingsItem",
                Method::PATCH,
                &path,
                Some(&amazon_patch(f.quantity)),
            )
            .await;
        out.push(per_item(r)?.and_then(|answer| amazon_accepted(&answer)));
    }
    Ok(out)
}

/// Whether Amazon took a listings submission, or its issues in its words.
fn amazon_accepted(answer: &Value) -> Result<(), String> {
    if answer["status"].as_str() == Some("ACCEPTED") {
        return Ok(());
    }
    let issues: Vec<&str> = answer["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["message"].as_str()).collect())
        .unwrap_or_default();
    Err(format!(
        "Amazon: {} {}",
        answer["status"].as_str().unwrap_or("no status"),
        issues.join("; ")
    ))
}

async fn etsy(shop: &Shop<'_>, figures: &[Figure<'_>]) -> Result<Results, CallError> {
    let mut by_listing: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in figures.iter().enumerate() {
        by_listing
            .entry(f.listing.remote_product.as_str())
            .or_default()
            .push(i);
    }
    let mut out: Vec<Result<(), String>> = figures.iter().map(|_| Ok(())).collect();
    for (listing, members) in by_listing {
        let Some(id) = number(listing) else {
            for &i in &members {
                out[i] = Err(format!("{listing:?} is not an Etsy listing id"));
            }
            continue;
        };
        let path = format!("listings/{id}/inventory");
        let held = per_item(
            shop.call("Etsy getListingInventory", Method::GET, &path, None)
                .await,
        )?;
        let quantities: BTreeMap<&str, i64> = members
            .iter()
            .map(|&i| (figures[i].listing.sku.as_str(), figures[i].quantity))
            .collect();
        let written = match held {
            Ok(inventory) => per_item(
                shop.call(
                    "Etsy updateListingInventory",
                    Method::PUT,
                    &path,
                    Some(&etsy_inventory(&inventory, &quantities)),
                )
                .await,
            )?
            .map(|_| ()),
            Err(words) => Err(words),
        };
        for &i in &members {
            out[i] = written.clone();
        }
    }
    Ok(out)
}

/// Etsy's inventory as its update takes it (the whole of it: products left out are deleted),
/// with the quantities of the SKUs given; prices go back as the numbers they are.
pub fn etsy_inventory(held: &Value, quantities: &BTreeMap<&str, i64>) -> Value {
    let products: Vec<Value> = held["products"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|p| p["is_deleted"].as_bool() != Some(true))
        .map(|p| {
            let sku = p["sku"].as_str().unwrap_or_default();
            let offerings: Vec<Value> = p["offerings"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .filter(|o| o["is_deleted"].as_bool() != Some(true))
                .map(|o| {
                    let price = &o["price"];
                    let amount = price["amount"].as_f64().unwrap_or_default()
                        / price["divisor"].as_f64().filter(|d| *d > 0.0).unwrap_or(100.0);
                    json!({
                        "price": amount,
                        "quantity": quantities.get(sku).copied().unwrap_or_else(|| o["quantity"].as_i64().unwrap_or_default()),
                        "is_enabled": o["is_enabled"].as_bool().unwrap_or(true),
                    })
                })
                .collect();
            let values: Vec<Value> = p["property_values"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|v| {
                    json!({
                        "property_id": v["property_id"],
                        "value_ids": v["value_ids"],
                        "scale_id": v["scale_id"],
                        "property_name": v["property_name"],
                        "values": v["values"],
                    })
                })
                .collect();
            json!({ "sku": p["sku"], "property_values": values, "offerings": offerings })
        })
        .collect();
    json!({
        "products": products,
        "price_on_property": held["price_on_property"],
        "quantity_on_property": held["quantity_on_property"],
        "sku_on_property": held["sku_on_property"],
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    pub(crate) fn listing(item: &str, sku: &str) -> Listing {
        let now = chrono::Utc::now();
        Listing {
            tenant_id: uuid::Uuid::nil(),
            id: uuid::Uuid::nil(),
            connection_id: uuid::Uuid::nil(),
            remote_key: format!("1/{item}"),
            remote_product: "1".into(),
            remote_variant: Some(item.into()),
            remote_item: Some(item.into()),
            sku: sku.into(),
            title: sku.into(),
            variant_id: None,
            mapped_by_hand: false,
            remote_quantity: None,
            pushed_quantity: None,
            pushed_at: None,
            dirty_at: None,
            drift_count: 0,
            last_error: None,
            stock_feed: None,
            seen_at: now,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn shopify_sets_absolute_figures_with_a_fresh_idempotency_key() {
        let (a, b) = (listing("808950810", "A"), listing("457924702", "B"));
        let figures = [
            Figure {
                listing: &a,
                quantity: 7,
            },
            Figure {
                listing: &b,
                quantity: 0,
            },
        ];
        let refs: Vec<&Figure<'_>> = figures.iter().collect();
        let one = shopify_set("655441491", &refs);
        let two = shopify_set("655441491", &refs);
        assert_ne!(one["variables"]["key"], two["variables"]["key"]);
        assert!(
            one["query"]
                .as_str()
                .unwrap()
                .contains("@idempotent(key: $key)")
        );
        let input = &one["variables"]["input"];
        assert_eq!(input["name"], "available");
        assert_eq!(
            input["quantities"][0],
            json!({ "inventoryItemId": "gid://shopify/InventoryItem/808950810", "locationId": "gid://shopify/Location/655441491", "quantity": 7, "changeFromQuantity": null })
        );
    }

    #[test]
    fn shopify_refusals_are_read_per_item_or_for_the_call() {
        let refused = json!({ "data": { "inventorySetQuantities": { "inventoryAdjustmentGroup": null, "userErrors": [
            { "field": ["input", "quantities", "1", "inventoryItemId"], "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM" }
        ] } } });
        assert_eq!(
            shopify_refused(&refused).unwrap(),
            vec![(
                Some(1),
                "Shopify: The specified inventory item could not be found.".into()
            )]
        );
        let throttled = json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] });
        assert_eq!(
            shopify_refused(&throttled),
            Err(CallError::Down("Shopify: Throttled".into()))
        );
        let ok = json!({ "data": { "inventorySetQuantities": { "userErrors": [] } } });
        assert_eq!(shopify_refused(&ok).unwrap(), vec![]);
    }

    #[test]
    fn a_batch_costs_the_calls_it_makes() {
        let (a, b) = (listing("1", "A"), listing("2", "B"));
        let mut simple = listing("3", "C");
        simple.remote_variant = None;
        let figures = [
            Figure {
                listing: &a,
                quantity: 1,
            },
            Figure {
                listing: &b,
                quantity: 1,
            },
            Figure {
                listing: &simple,
                quantity: 1,
            },
        ];
        // A and B are variations of product 1; C is a simple product: two batch calls.
        assert_eq!(calls(Platform::Woocommerce, &figures), 2);
        assert_eq!(calls(Platform::Shopify, &figures), 1);
        assert_eq!(calls(Platform::Amazon, &figures), 3);
        assert_eq!(calls(Platform::Etsy, &figures), 2);
        assert_eq!(calls(Platform::Bigcommerce, &figures), 1);
    }

    #[test]
    fn amazons_patch_is_the_one_its_listings_feed_example_sends() {
        let feed = fixture("amazon/writeback/listings_feed_v2_example_JSON_LISTINGS_FEED.json");
        let example = feed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["operationType"] == "PATCH" && m["patches"][0]["op"] == "replace")
            .unwrap();
        let ours = amazon_patch(10);
        assert_eq!(ours["patches"], example["patches"]);
    }

    #[test]
    fn amazon_says_whether_it_took_a_submission() {
        let ok = fixture(
            "amazon/writeback/sp_api_listings_2021-08-01_patchListingsItem_sandbox_200.json",
        );
        assert_eq!(amazon_accepted(&ok["response"]["body"]), Ok(()));
        let invalid = json!({ "sku": "X", "status": "INVALID", "issues": [{ "code": "90220", "message": "'quantity' is required", "severity": "ERROR" }] });
        assert_eq!(
            amazon_accepted(&invalid),
            Err("Amazon: INVALID 'quantity' is required".into())
        );
    }

    #[test]
    fn a_woocommerce_batch_answer_is_read_per_item() {
        let recorded = fixture("woocommerce/writeback/product_variations_batch_22.json");
        let answer = &recorded["response"]["body"];
        // The example's update changed a price: the variation's stock is unmanaged (null).
        assert!(
            woo_item(answer, 733, 5)
                .unwrap_err()
                .contains("holds null after setting 5")
        );
        assert!(
            woo_item(answer, 1, 5)
                .unwrap_err()
                .contains("does not mention 1")
        );
        let refused = json!({ "update": [{ "id": 9, "error": { "code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": { "status": 400 } } }] });
        assert_eq!(
            woo_item(&refused, 9, 1),
            Err("WooCommerce: Invalid ID.".into())
        );
        let mut managed = answer.clone();
        managed["update"][0]["stock_quantity"] = json!(5);
        assert_eq!(woo_item(&managed, 733, 5), Ok(()));
    }

    #[test]
    fn etsy_gets_its_whole_inventory_back_with_our_quantities() {
        // `getListingInventory`'s documented shape (Etsy publishes no example): prices are
        // Money objects on the way out, numbers on the way in.
        let held = json!({
            "products": [
                { "product_id": 1, "sku": "MUG-RED", "is_deleted": false,
                  "property_values": [{ "property_id": 200, "property_name": "Color", "scale_id": null, "value_ids": [1213], "values": ["Red"] }],
                  "offerings": [{ "offering_id": 11, "quantity": 4, "is_enabled": true, "is_deleted": false, "price": { "amount": 1250, "divisor": 100, "currency_code": "USD" } }] },
                { "product_id": 2, "sku": "MUG-BLUE", "is_deleted": false,
                  "property_values": [{ "property_id": 200, "property_name": "Color", "scale_id": null, "value_ids": [1214], "values": ["Blue"] }],
                  "offerings": [{ "offering_id": 12, "quantity": 9, "is_enabled": false, "is_deleted": false, "price": { "amount": 1300, "divisor": 100, "currency_code": "USD" } }] },
                { "product_id": 3, "sku": "OLD", "is_deleted": true, "property_values": [], "offerings": [] }
            ],
            "price_on_property": [200], "quantity_on_property": [200], "sku_on_property": [200]
        });
        let put = etsy_inventory(&held, &BTreeMap::from([("MUG-RED", 7)]));
        let products = put["products"].as_array().unwrap();
        assert_eq!(products.len(), 2, "a deleted product stays deleted");
        assert_eq!(
            products[0]["offerings"],
            json!([{ "price": 12.5, "quantity": 7, "is_enabled": true }])
        );
        assert_eq!(
            products[1]["offerings"],
            json!([{ "price": 13.0, "quantity": 9, "is_enabled": false }])
        );
        assert_eq!(
            products[0]["property_values"][0]["value_ids"],
            json!([1213])
        );
        assert_eq!(put["quantity_on_property"], json!([200]));
        // Every field sent is one Etsy's `updateListingInventory` schema names.
        let spec = fixture(
            "etsy/writeback/openapi_2021_createReceiptShipment_updateListingInventory.json",
        );
        let schema = &spec["paths"]["/v3/application/listings/{listing_id}/inventory"]["put"]["requestBody"]
            ["content"]["application/json"]["schema"];
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let product = &schema["properties"]["products"]["items"]["properties"];
        for k in keys(&products[0]) {
            assert!(product.get(&k).is_some(), "{k}");
        }
        for k in keys(&products[0]["offerings"][0]) {
            assert!(
                product["offerings"]["items"]["properties"]
                    .get(&k)
                    .is_some(),
                "{k}"
            );
        }
        for k in keys(&products[0]["property_values"][0]) {
            assert!(
                product["property_values"]["items"]["properties"]
                    .get(&k)
                    .is_some(),
                "{k}"
            );
        }
        for k in keys(&put) {
            assert!(schema["properties"].get(&k).is_some(), "{k}");
        }
        let items = super::super::catalog::etsy_items("55", "Mug", &held);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].remote_key, "55/1");
        assert_eq!(items[0].title, "Mug — Red");
        assert_eq!(items[0].quantity, Some(4));
    }
}
