//! Reading a channel's catalog: every item it sells with its SKU and the stock it shows,
//! for the listing map and the drift check. Shopify's products and variants (and the levels
//! at the connection's location), WooCommerce's products and variations, BigCommerce's
//! variants, Etsy's active listings with their inventories. Amazon lists nothing cheaply:
//! its listings are the SKUs its orders named (and those staff map), each read back with its
//! `fulfillmentAvailability`.
//!
//! A read is bounded in pages and time; one cut short is not complete, and then nothing is
//! forgotten for being unseen.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::listings::Seen;
use super::shop::{Api, CallError, Shop};
use crate::channels::amazon::enc;
use crate::channels::store::id_text;

const MAX_PAGES: usize = 400;
const TIME_BUDGET: Duration = Duration::from_secs(120);

/// What one read of a catalog found.
#[derive(Debug, Default)]
pub struct Catalog {
    pub items: Vec<Seen>,
    /// Read to the end (what it lacks is gone from the channel).
    pub complete: bool,
    /// Shopify: the location stock is kept at, when the connection names none.
    pub location: Option<String>,
}

/// Reads the catalog. `known` are the SKUs already listed (Amazon's listings to read back).
pub async fn read(
    shop: &Shop<'_>,
    location: Option<&str>,
    known: &[String],
) -> Result<Catalog, CallError> {
    let deadline = Instant::now() + TIME_BUDGET;
    match &shop.api {
        Api::Shopify(_) => shopify(shop, location, deadline).await,
        Api::Woocommerce(_) => woocommerce(shop, deadline).await,
        Api::Bigcommerce(_) => bigcommerce(shop, deadline).await,
        Api::Amazon { seller, api, .. } => {
            let marketplace = api
                .marketplace()
                .map_err(|e| CallError::Access(e.to_string()))?;
            amazon(shop, seller, marketplace, known, deadline).await
        }
        Api::Etsy(api) => etsy(shop, api.shop(), deadline).await,
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().trim().to_owned()
}

async fn shopify(
    shop: &Shop<'_>,
    location: Option<&str>,
    deadline: Instant,
) -> Result<Catalog, CallError> {
    let mut out = Catalog::default();
    let location = match location {
        Some(l) => l.to_owned(),
        None => {
            let answer = shop
                .call("Shopify GET locations", Method::GET, "locations.json", None)
                .await?;
            let first = answer["locations"].as_array().and_then(|l| {
                l.iter()
                    .find(|l| l["active"].as_bool() != Some(false))
                    .and_then(|l| id_text(&l["id"]))
            });
            let Some(first) = first else {
                return Err(CallError::Refused(
                    "the Shopify shop has no active location".into(),
                ));
            };
            out.location = Some(first.clone());
            first
        }
    };
    let mut since = 0_i64;
    for _ in 0..MAX_PAGES {
        if Instant::now() >= deadline {
            return Ok(out);
        }
        // `since_id` pages by id, stable while the catalog changes.
        let answer = shop
            .call(
                "Shopify GET products",
                Method::GET,
                &format!("products.json?limit=250&since_id={since}&fields=id,title,variants"),
                None,
            )
            .await?;
        let products = answer["products"].as_array().cloned().unwrap_or_default();
        for p in &products {
            let Some(product) = id_text(&p["id"]) else {
                continue;
            };
            for v in p["variants"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let Some(variant) = id_text(&v["id"]) else {
                    continue;
                };
                out.items.push(Seen {
                    remote_key: format!("{product}/{variant}"),
                    product: product.clone(),
                    variant: Some(variant),
                    item: id_text(&v["inventory_item_id"]),
                    sku: text(&v["sku"]),
                    title: title_of(&text(&p["title"]), &text(&v["title"])),
                    quantity: None,
                });
            }
        }
        since = products
            .iter()
            .filter_map(|p| p["id"].as_i64())
            .max()
            .unwrap_or(since);
        if products.len() < 250 {
            out.complete = true;
            break;
        }
    }
    shopify_levels(shop, &location, &mut out.items, deadline).await?;
    Ok(out)
}

/// The stock each item shows at the location, fifty items a call.
async fn shopify_levels(
    shop: &Shop<'_>,
    location: &str,
    items: &mut [Seen],
    deadline: Instant,
) -> Result<(), CallError> {
    let ids: Vec<String> = items.iter().filter_map(|s| s.item.clone()).collect();
    for chunk in ids.chunks(50) {
        if Instant::now() >= deadline {
            break;
        }
        let answer = shop
            .call(
                "Shopify GET inventory levels",
                Method::GET,
                &format!(
                    "inventory_levels.json?inventory_item_ids={}&location_ids={}",
                    chunk.join(","),
                    enc(location)
                ),
                None,
            )
            .await?;
        for level in answer["inventory_levels"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if id_text(&level["location_id"]).as_deref() != Some(location) {
                continue;
            }
            let item = id_text(&level["inventory_item_id"]);
            for s in items.iter_mut().filter(|s| s.item == item) {
                s.quantity = level["available"].as_i64();
            }
        }
    }
    Ok(())
}

fn title_of(product: &str, variant: &str) -> String {
    if variant.is_empty() || variant == "Default Title" {
        product.to_owned()
    } else {
        format!("{product} — {variant}")
    }
}

async fn woocommerce(shop: &Shop<'_>, deadline: Instant) -> Result<Catalog, CallError> {
    let mut out = Catalog::default();
    let mut pages = 0;
    'products: for page in 1..=MAX_PAGES {
        if Instant::now() >= deadline {
            return Ok(out);
        }
        let answer = shop
            .call(
                "WooCommerce GET products",
                Method::GET,
                &format!("products?per_page=100&page={page}&orderby=id&order=asc"),
                None,
            )
            .await?;
        let products = answer.as_array().cloned().unwrap_or_default();
        for p in &products {
            let Some(product) = id_text(&p["id"]) else {
                continue;
            };
            let name = text(&p["name"]);
            if p["type"].as_str() != Some("variable") {
                out.items.push(woo_seen(&product, None, p, &name));
                continue;
            }
            for vpage in 1..=MAX_PAGES {
                pages += 1;
                if pages > MAX_PAGES * 4 || Instant::now() >= deadline {
                    break 'products;
                }
                let variations = shop
                    .call(
                        "WooCommerce GET variations",
                        Method::GET,
                        &format!("products/{product}/variations?per_page=100&page={vpage}"),
                        None,
                    )
                    .await?;
                let variations = variations.as_array().cloned().unwrap_or_default();
                for v in &variations {
                    if let Some(id) = id_text(&v["id"]) {
                        out.items.push(woo_seen(&product, Some(id), v, &name));
                    }
                }
                if variations.len() < 100 {
                    break;
                }
            }
        }
        if products.len() < 100 {
            out.complete = true;
            break;
        }
    }
    Ok(out)
}

fn woo_seen(product: &str, variation: Option<String>, v: &Value, name: &str) -> Seen {
    let options: Vec<String> = v["attributes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a["option"].as_str().map(str::to_owned))
        .collect();
    Seen {
        remote_key: match &variation {
            Some(id) => format!("{product}/{id}"),
            None => product.to_owned(),
        },
        product: product.to_owned(),
        variant: variation,
        item: None,
        sku: text(&v["sku"]),
        title: title_of(name, &options.join(" / ")),
        // Only a managed stock is a figure.
        quantity: v["stock_quantity"]
            .as_i64()
            .filter(|_| v["manage_stock"].as_bool() == Some(true)),
    }
}

async fn bigcommerce(shop: &Shop<'_>, deadline: Instant) -> Result<Catalog, CallError> {
    let mut out = Catalog::default();
    for page in 1..=MAX_PAGES {
        if Instant::now() >= deadline {
            return Ok(out);
        }
        let answer = shop
            .call(
                "BigCommerce GET variants",
                Method::GET,
                &format!(
                    "catalog/variants?limit=250&page={page}&include_fields=id,product_id,sku,inventory_level,option_values"
                ),
                None,
            )
            .await?;
        for v in answer["data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (Some(product), Some(variant)) = (id_text(&v["product_id"]), id_text(&v["id"]))
            else {
                continue;
            };
            let options: Vec<String> = v["option_values"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|o| o["label"].as_str().map(str::to_owned))
                .collect();
            out.items.push(Seen {
                remote_key: format!("{product}/{variant}"),
                product: product.clone(),
                variant: Some(variant),
                item: None,
                sku: text(&v["sku"]),
                title: title_of(&format!("product {product}"), &options.join(" / ")),
                quantity: v["inventory_level"].as_i64(),
            });
        }
        let pages = answer["meta"]["pagination"]["total_pages"]
            .as_u64()
            .unwrap_or(1);
        if page as u64 >= pages {
            out.complete = true;
            break;
        }
    }
    Ok(out)
}

async fn amazon(
    shop: &Shop<'_>,
    seller: &str,
    marketplace: &str,
    known: &[String],
    deadline: Instant,
) -> Result<Catalog, CallError> {
    let mut out = Catalog::default();
    for sku in known.iter().take(MAX_PAGES * 2) {
        if Instant::now() >= deadline {
            return Ok(out);
        }
        let path = format!(
            "/listings/2021-08-01/items/{}/{}?marketplaceIds={}&includedData=summaries,fulfillmentAvailability",
            enc(seller),
            enc(sku),
            enc(marketplace)
        );
        let answer = match shop
            .call("Amazon getListingsItem", Method::GET, &path, None)
            .await
        {
            Ok(a) => a,
            // Not listed (any more): the SKU is not a listing.
            Err(CallError::Refused(_)) => continue,
            Err(other) => return Err(other),
        };
        let quantity = answer["fulfillmentAvailability"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|f| f["fulfillmentChannelCode"].as_str() == Some("DEFAULT"))
            })
            .and_then(|f| f["quantity"].as_i64());
        let title = answer["summaries"][0]["itemName"]
            .as_str()
            .unwrap_or(sku)
            .to_owned();
        out.items.push(Seen {
            remote_key: sku.clone(),
            product: answer["summaries"][0]["asin"]
                .as_str()
                .unwrap_or(sku)
                .to_owned(),
            variant: None,
            item: None,
            sku: sku.clone(),
            title,
            quantity,
        });
    }
    out.complete = out.items.len() == known.len();
    Ok(out)
}

async fn etsy(shop: &Shop<'_>, shop_id: &str, deadline: Instant) -> Result<Catalog, CallError> {
    let mut out = Catalog::default();
    for page in 0..MAX_PAGES {
        if Instant::now() >= deadline {
            return Ok(out);
        }
        let answer = shop
            .call(
                "Etsy GET active listings",
                Method::GET,
                &format!(
                    "shops/{}/listings/active?limit=100&offset={}",
                    enc(shop_id),
                    page * 100
                ),
                None,
            )
            .await?;
        let listings = answer["results"].as_array().cloned().unwrap_or_default();
        for l in &listings {
            if Instant::now() >= deadline {
                return Ok(out);
            }
            let Some(listing) = id_text(&l["listing_id"]) else {
                continue;
            };
            let inventory = shop
                .call(
                    "Etsy GET listing inventory",
                    Method::GET,
                    &format!("listings/{listing}/inventory"),
                    None,
                )
                .await?;
            out.items
                .extend(etsy_items(&listing, &text(&l["title"]), &inventory));
        }
        if listings.len() < 100 {
            out.complete = true;
            break;
        }
    }
    Ok(out)
}

/// An Etsy listing's products, one listing item each.
pub fn etsy_items(listing: &str, title: &str, inventory: &Value) -> Vec<Seen> {
    inventory["products"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|p| p["is_deleted"].as_bool() != Some(true))
        .filter_map(|p| {
            let product = id_text(&p["product_id"])?;
            let values: Vec<String> = p["property_values"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .flat_map(|v| v["values"].as_array().cloned().unwrap_or_default())
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            Some(Seen {
                remote_key: format!("{listing}/{product}"),
                product: listing.to_owned(),
                variant: Some(product),
                item: None,
                sku: text(&p["sku"]),
                title: title_of(title, &values.join(" / ")),
                quantity: p["offerings"]
                    .as_array()
                    .and_then(|o| o.iter().find(|o| o["is_deleted"].as_bool() != Some(true)))
                    .and_then(|o| o["quantity"].as_i64()),
            })
        })
        .collect()
}
