//! Load harness for the channel stock sync (issue 21): 10,000 SKUs listed on a Shopify shop, a
//! WooCommerce store and a BigCommerce store, each a local server in this process that answers
//! as its platform documents and notes when every figure arrives.
//!
//! ```sh
//! cargo run --release -p orderflow --example stock_sync_load -- 10000 300
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo run --release -p orderflow --example stock_sync_load -- 10000 300
//! ```
//! Arguments: SKUs (default 10,000) and sampled changes (default 300). Three figures:
//! - the first full sync (every SKU's figure to every channel, once the catalogs are read):
//!   items and calls a second per platform, under each platform's rate limit;
//! - latency from a stock change (its `adjustStock` answered) to its figure arriving at each
//!   channel, p50 and p99, for changes to random SKUs at 20 a second;
//! - a burst of 1,000 changes to one SKU: pushes each channel received, and whether the last
//!   carried the final figure.
//!
//! Everything stays on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use orderflow::app;
use serde_json::{Value, json};

/// Per platform, per SKU index: every figure that arrived, with when.
#[derive(Default)]
struct Arrivals {
    figures: HashMap<(&'static str, usize), Vec<(i64, Instant)>>,
    calls: HashMap<&'static str, usize>,
}

type Shared = Arc<Mutex<Arrivals>>;

const SHOPIFY_ITEM: usize = 1_000_000;
const WOO_PRODUCT: usize = 2_000_000;
const BIG_VARIANT: usize = 3_000_000;

fn note(
    arrivals: &Shared,
    platform: &'static str,
    figures: impl IntoIterator<Item = (usize, i64)>,
) {
    let now = Instant::now();
    let mut a = arrivals.lock().unwrap();
    *a.calls.entry(platform).or_default() += 1;
    for (i, q) in figures {
        a.figures.entry((platform, i)).or_default().push((q, now));
    }
}

fn query_number(req: &HttpRequest, name: &str) -> Option<usize> {
    req.query_string()
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
}

/// The three platforms' APIs, as far as the stock sync uses them.
async fn channel(
    req: HttpRequest,
    body: web::Bytes,
    skus: usize,
    arrivals: Shared,
) -> HttpResponse {
    let path = req.path().to_owned();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ok = |v: Value| HttpResponse::Ok().json(v);
    match path.as_str() {
        "/admin/api/2026-07/locations.json" => {
            ok(json!({ "locations": [{ "id": 77, "active": true }] }))
        }
        "/admin/api/2026-07/products.json" => {
            let since = query_number(&req, "since_id").unwrap_or(0);
            // `since_id` pages by id: the next page starts after the last id seen.
            let from = if since == 0 {
                0
            } else {
                since + 1 - SHOPIFY_ITEM
            };
            let products: Vec<Value> = (from..skus.min(from + 250))
                .map(|i| json!({ "id": SHOPIFY_ITEM + i, "title": format!("Load {i}"), "variants": [{ "id": SHOPIFY_ITEM + i, "title": "Default Title", "sku": format!("LOAD-{i}"), "inventory_item_id": SHOPIFY_ITEM + i }] }))
                .collect();
            ok(json!({ "products": products }))
        }
        "/admin/api/2026-07/inventory_levels.json" => ok(json!({ "inventory_levels": [] })),
        "/admin/api/2026-07/graphql.json" => {
            let figures: Vec<(usize, i64)> = json["variables"]["input"]["quantities"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| {
                    let item: usize = q["inventoryItemId"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap();
                    (item - SHOPIFY_ITEM, q["quantity"].as_i64().unwrap())
                })
                .collect();
            note(&arrivals, "Shopify", figures);
            ok(
                json!({ "data": { "inventorySetQuantities": { "inventoryAdjustmentGroup": { "reason": "correction", "changes": [] }, "userErrors": [] } } }),
            )
        }
        "/wp-json/wc/v3/products" => {
            let page = query_number(&req, "page").unwrap_or(1);
            let products: Vec<Value> = ((page - 1) * 100..skus.min(page * 100))
                .map(|i| json!({ "id": WOO_PRODUCT + i, "name": format!("Load {i}"), "type": "simple", "sku": format!("LOAD-{i}"), "manage_stock": true, "stock_quantity": 0 }))
                .collect();
            ok(json!(products))
        }
        "/wp-json/wc/v3/products/batch" => {
            let update: Vec<Value> = json["update"].as_array().unwrap().clone();
            note(
                &arrivals,
                "WooCommerce",
                update.iter().map(|u| {
                    (
                        u["id"].as_u64().unwrap() as usize - WOO_PRODUCT,
                        u["stock_quantity"].as_i64().unwrap(),
                    )
                }),
            );
            ok(json!({ "update": update }))
        }
        "/stores/load/v3/catalog/variants" => {
            let page = query_number(&req, "page").unwrap_or(1);
            let data: Vec<Value> = ((page - 1) * 250..skus.min(page * 250))
                .map(|i| json!({ "id": BIG_VARIANT + i, "product_id": BIG_VARIANT + i, "sku": format!("LOAD-{i}"), "inventory_level": 0, "option_values": [] }))
                .collect();
            ok(
                json!({ "data": data, "meta": { "pagination": { "total_pages": skus.div_ceil(250) } } }),
            )
        }
        "/stores/load/v3/inventory/adjustments/absolute" => {
            let items = json["items"].as_array().unwrap();
            note(
                &arrivals,
                "BigCommerce",
                items.iter().map(|i| {
                    (
                        i["variant_id"].as_u64().unwrap() as usize - BIG_VARIANT,
                        i["quantity"].as_i64().unwrap(),
                    )
                }),
            );
            ok(json!({ "transaction_id": uuid::Uuid::new_v4().to_string() }))
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

const PLATFORMS: [&str; 3] = ["Shopify", "WooCommerce", "BigCommerce"];

/// When every SKU had arrived at `platform` with `figure(i)`, waiting up to `limit`.
async fn all_arrived(
    arrivals: &Shared,
    platform: &'static str,
    skus: usize,
    figure: impl Fn(usize) -> i64,
    limit: Duration,
) -> Option<Instant> {
    let deadline = Instant::now() + limit;
    loop {
        let last = {
            let a = arrivals.lock().unwrap();
            (0..skus)
                .map(|i| {
                    a.figures
                        .get(&(platform, i))
                        .and_then(|f| f.iter().find(|(q, _)| *q == figure(i)).map(|(_, at)| *at))
                })
                .collect::<Option<Vec<Instant>>>()
                .map(|ats| ats.into_iter().max().unwrap())
        };
        if last.is_some() || Instant::now() > deadline {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let skus: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let samples: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(300);
    let arrivals: Shared = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let channels = format!("http://{}", listener.local_addr().unwrap());
    let shared = arrivals.clone();
    let server = HttpServer::new(move || {
        let shared = shared.clone();
        App::new()
            .app_data(web::PayloadConfig::new(16 << 20))
            .default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                channel(req, body, skus, shared.clone())
            }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let bench = support::setup_with(4, true).await;
    let state = bench.state.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let running = app::start(state.clone(), listener, true).unwrap();
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let signed = support::must(&client, &base, None, "mutation { signUp(input: {tenantName: \"Stock bench\", email: \"stock@example.com\", password: \"bench password 1234\"}) { accessToken } }", json!({})).await;
    let token = signed["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = Some(token.as_str());
    let w = support::must(&client, &base, t, "mutation { createWarehouse(input: {code: \"MAIN\", name: \"Main\", address: {line1: \"1 Dock Road\", city: \"Leeds\", postalCode: \"LS1 4AP\", country: \"GB\"}}) { warehouse { id } } }", json!({})).await;
    let warehouse = w["data"]["createWarehouse"]["warehouse"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let setup = Instant::now();
    for chunk in (0..skus).collect::<Vec<_>>().chunks(100) {
        let variants: Vec<Value> = chunk.iter().map(|i| json!({ "sku": format!("LOAD-{i}"), "price": "10.00", "options": [{ "name": "n", "value": i.to_string() }] })).collect();
        support::must(&client, &base, t, "mutation($v: [VariantInput!]!) { createProduct(input: {title: \"Load\", variants: $v}) { userErrors { message } } }", json!({ "v": variants })).await;
    }
    futures_util::stream::iter(0..skus)
        .map(|i| {
            let (client, base, token, warehouse) = (client.clone(), base.clone(), token.clone(), warehouse.clone());
            async move {
                support::must(&client, &base, Some(&token), "mutation($s: String!, $w: ID!) { receiveStock(input: {sku: $s, warehouseId: $w, quantity: 100}) { userErrors { message } } }", json!({ "s": format!("LOAD-{i}"), "w": warehouse })).await;
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    println!(
        "{}: {skus} SKUs with stock in {:.1}s",
        bench.name,
        setup.elapsed().as_secs_f64()
    );

    // Connected: each catalog is read, every SKU matched, every figure pushed.
    let connected = Instant::now();
    for (platform, domain, credentials) in [
        (
            "SHOPIFY",
            "load.myshopify.com",
            json!({ "accessToken": "shpat_load", "apiUrl": channels }),
        ),
        (
            "WOOCOMMERCE",
            "load.example.com",
            json!({ "consumerKey": "ck_load", "consumerSecret": "cs_load", "apiUrl": channels }),
        ),
        (
            "BIGCOMMERCE",
            "load",
            json!({ "storeHash": "load", "accessToken": "bc_load", "apiUrl": channels }),
        ),
    ] {
        support::must(&client, &base, t, "mutation($i: CreateChannelConnectionInput!) { createChannelConnection(input: $i) { channelConnection { id } userErrors { field message } } }",
            json!({ "i": { "platform": platform, "name": platform, "shopDomain": domain, "webhookSecret": "a channel secret for the load shop", "credentials": credentials } })).await;
    }
    println!("first sync of every figure (catalog read included), per platform:");
    for platform in PLATFORMS {
        let done = all_arrived(
            &arrivals,
            platform,
            skus,
            |_| 100,
            Duration::from_secs(3600),
        )
        .await
        .expect("never synced");
        let took = done - connected;
        let calls = arrivals
            .lock()
            .unwrap()
            .calls
            .get(platform)
            .copied()
            .unwrap_or(0);
        println!(
            "  {platform:<12} {skus} figures in {:.1}s = {:.0} items/s, {calls} calls ({:.2} calls/s)",
            took.as_secs_f64(),
            skus as f64 / took.as_secs_f64(),
            calls as f64 / took.as_secs_f64()
        );
    }

    // Latency: changes to random SKUs, 20 a second; each figure awaited on every channel.
    let mut expected: HashMap<usize, i64> = HashMap::new();
    let mut changes: Vec<(usize, i64, Instant)> = Vec::new();
    let mut rng = 0x2545F4914F6CDD1D_u64;
    for _ in 0..samples {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let i = (rng % skus as u64) as usize;
        let figure = expected.entry(i).or_insert(100);
        *figure -= 1;
        support::must(&client, &base, t, "mutation($s: String!, $w: ID!) { adjustStock(input: {sku: $s, warehouseId: $w, delta: -1, reason: \"bench\"}) { userErrors { message } } }", json!({ "s": format!("LOAD-{i}"), "w": warehouse })).await;
        changes.push((i, *figure, Instant::now()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!("from a stock change to its figure at the channel ({samples} changes, 20/s):");
    for platform in PLATFORMS {
        let a = arrivals.lock().unwrap();
        let mut took: Vec<Duration> = changes
            .iter()
            .filter_map(|(i, figure, at)| {
                a.figures
                    .get(&(platform, *i))?
                    .iter()
                    .find(|(q, t)| q == figure && t >= at)
                    .map(|(_, t)| *t - *at)
            })
            .collect();
        took.sort();
        println!(
            "  {platform:<12} {} of {samples} arrived: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            took.len(),
            percentile(&took, 0.5).as_secs_f64() * 1000.0,
            percentile(&took, 0.99).as_secs_f64() * 1000.0,
            took.last().unwrap().as_secs_f64() * 1000.0
        );
    }

    // A burst: 1,000 changes to one SKU, eight at a time (+2, −1, …: net +500).
    let hot = 0;
    let before: HashMap<&str, usize> = PLATFORMS
        .iter()
        .map(|p| {
            (
                *p,
                arrivals
                    .lock()
                    .unwrap()
                    .figures
                    .get(&(p, hot))
                    .map_or(0, Vec::len),
            )
        })
        .collect();
    let final_figure = expected.get(&hot).copied().unwrap_or(100) + 500;
    let burst = Instant::now();
    futures_util::stream::iter(0..1000)
        .map(|n| {
            let (client, base, token, warehouse) = (client.clone(), base.clone(), token.clone(), warehouse.clone());
            async move {
                let delta = if n % 2 == 0 { 2 } else { -1 };
                support::must(&client, &base, Some(&token), "mutation($w: ID!, $d: Int!) { adjustStock(input: {sku: \"LOAD-0\", warehouseId: $w, delta: $d, reason: \"burst\"}) { userErrors { message } } }", json!({ "w": warehouse, "d": delta })).await;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let changed_in = burst.elapsed();
    tokio::time::sleep(Duration::from_secs(5)).await;
    println!(
        "1,000 changes to one SKU in {:.1}s (8 at a time), final figure {final_figure}:",
        changed_in.as_secs_f64()
    );
    for platform in PLATFORMS {
        let a = arrivals.lock().unwrap();
        let figures = a.figures.get(&(platform, hot)).cloned().unwrap_or_default();
        let pushes = &figures[before[platform]..];
        println!(
            "  {platform:<12} {} pushes, last {:?}",
            pushes.len(),
            pushes.last().map(|(q, _)| *q)
        );
        assert_eq!(
            pushes.last().map(|(q, _)| *q),
            Some(final_figure),
            "{platform} ends on the final figure"
        );
    }
    running.stop().await;
    drop(state);
    bench.teardown().await;
}
