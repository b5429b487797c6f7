//! The demo shop's catalogue and its shoppers' orders: who orders what, from where, on which
//! channel, and which of them look like fraud. Each order is written as its channel writes it —
//! a Shopify `orders/create` webhook (the platform's own payload from the fixtures, with this
//! order's facts), a WooCommerce `order.created` webhook, or an API `createOrder` — so it is
//! captured the way real orders are. Pure: a seeded generator.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// One item the demo shop sells.
pub struct Item {
    /// How often shoppers pick it, relative to the others.
    pub popularity: u32,
    pub sku: &'static str,
    pub title: &'static str,
    pub price_cents: i64,
    pub cost_cents: i64,
    pub grams: i32,
    /// Units received at EAST and WEST: two items are scarce, so some orders wait for stock.
    pub stock: [i64; 2],
}

pub const CATALOG: [Item; 10] = [
    item(
        "KETTLE-STEEL",
        "Stovetop kettle, brushed steel",
        4900,
        1900,
        1200,
        [60, 40],
        5,
    ),
    item(
        "MUG-SET-4",
        "Stoneware mugs, set of 4",
        3600,
        1100,
        1600,
        [80, 60],
        5,
    ),
    item(
        "TEA-SENCHA",
        "Sencha green tea, 100 g",
        1400,
        400,
        150,
        [200, 150],
        6,
    ),
    item(
        "TEA-ASSAM",
        "Assam breakfast tea, 250 g",
        1200,
        350,
        300,
        [200, 150],
        6,
    ),
    item(
        "GRINDER-BURR",
        "Burr coffee grinder",
        12900,
        5600,
        2400,
        [6, 4],
        2,
    ),
    item(
        "POUR-OVER",
        "Glass pour-over brewer",
        3200,
        900,
        700,
        [50, 50],
        4,
    ),
    item(
        "SCALE-DIGI",
        "Digital brewing scale",
        4500,
        1700,
        600,
        [40, 30],
        3,
    ),
    item(
        "FILTER-100",
        "Paper filters, 100",
        800,
        150,
        200,
        [300, 250],
        6,
    ),
    item(
        "TEAPOT-CAST",
        "Cast-iron teapot",
        8900,
        3200,
        2200,
        [1, 0],
        3,
    ),
    item(
        "CADDY-TIN",
        "Airtight tea caddy",
        1800,
        500,
        250,
        [100, 80],
        4,
    ),
];

const fn item(
    sku: &'static str,
    title: &'static str,
    price_cents: i64,
    cost_cents: i64,
    grams: i32,
    stock: [i64; 2],
    popularity: u32,
) -> Item {
    Item {
        popularity,
        sku,
        title,
        price_cents,
        cost_cents,
        grams,
        stock,
    }
}

const FIRST: [&str; 16] = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Edsger",
    "Frances",
    "John",
    "Hedy",
    "Tim",
    "Mary",
];
const LAST: [&str; 16] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Dijkstra",
    "Allen",
    "Backus",
    "Lamarr",
    "Berners-Lee",
    "Keller",
];

/// (city, region, postal code, street).
const PLACES: [(&str, &str, &str, &str); 16] = [
    ("New York", "NY", "10001", "350 5th Ave"),
    ("Brooklyn", "NY", "11201", "58 Joralemon St"),
    ("Boston", "MA", "02108", "24 Beacon St"),
    ("Philadelphia", "PA", "19103", "1500 Market St"),
    ("Chicago", "IL", "60601", "233 S Wacker Dr"),
    ("Louisville", "KY", "40202", "500 W Main St"),
    ("Nashville", "TN", "37203", "1 Music Sq W"),
    ("Atlanta", "GA", "30303", "55 Park Pl"),
    ("Austin", "TX", "78701", "1100 Congress Ave"),
    ("Denver", "CO", "80202", "1437 Bannock St"),
    ("Phoenix", "AZ", "85004", "200 W Washington St"),
    ("Salt Lake City", "UT", "84111", "451 S State St"),
    ("Seattle", "WA", "98101", "400 Pine St"),
    ("Portland", "OR", "97205", "1221 SW 4th Ave"),
    ("San Diego", "CA", "92101", "202 C St"),
    ("Minneapolis", "MN", "55401", "350 S 5th St"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Shopify,
    Woocommerce,
    Api,
}

#[derive(Clone, Debug)]
pub struct Shopper {
    pub first: String,
    pub last: String,
    pub email: String,
    pub city: &'static str,
    pub region: &'static str,
    pub postal: &'static str,
    pub street: &'static str,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub sku: &'static str,
    pub title: &'static str,
    pub quantity: i64,
    pub price_cents: i64,
    pub grams: i32,
}

#[derive(Clone, Debug)]
pub struct DemoOrder {
    pub number: u64,
    pub channel: Channel,
    pub shopper: Shopper,
    pub lines: Vec<Line>,
    pub shipping_cents: i64,
    /// Shipped to Nigeria, billed in Britain, from a Russian address, with a throwaway email.
    pub risky: bool,
    pub placed_at: DateTime<Utc>,
}

impl DemoOrder {
    pub fn subtotal_cents(&self) -> i64 {
        self.lines.iter().map(|l| l.price_cents * l.quantity).sum()
    }

    pub fn total_cents(&self) -> i64 {
        self.subtotal_cents() + self.shipping_cents
    }
}

/// The demo number of an order from its channel and external id, when the demo made it.
pub fn number_of(channel: &str, external_id: &str) -> Option<u64> {
    match channel {
        "api" => external_id.strip_prefix("DEMO-")?.parse().ok(),
        "shopify" => external_id.parse::<u64>().ok()?.checked_sub(SHOPIFY_IDS),
        "woocommerce" => external_id.parse::<u64>().ok()?.checked_sub(WOO_IDS),
        _ => None,
    }
}

const SHOPIFY_IDS: u64 = 5_100_000_000;
const WOO_IDS: u64 = 90_000;

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A returning shopper now and then: 40 shoppers, so some order again.
fn shopper(rng: &mut StdRng) -> Shopper {
    let who = rng.random_range(0..40usize);
    let first = FIRST[who % FIRST.len()];
    let last = LAST[(who * 7 + 3) % LAST.len()];
    let (city, region, postal, street) = PLACES[who % PLACES.len()];
    Shopper {
        first: first.to_owned(),
        last: last.to_owned(),
        email: format!(
            "{}.{}@shoppers.example",
            first.to_lowercase(),
            last.to_lowercase().replace('-', "")
        ),
        city,
        region,
        postal,
        street,
    }
}

/// The `number`th order of the demo.
pub fn order(rng: &mut StdRng, number: u64, now: DateTime<Utc>) -> DemoOrder {
    let channel = match number % 10 {
        0..=3 => Channel::Shopify,
        4..=6 => Channel::Woocommerce,
        _ => Channel::Api,
    };
    let mut lines: Vec<Line> = Vec::new();
    let weight: u32 = CATALOG.iter().map(|i| i.popularity).sum();
    for _ in 0..rng.random_range(1..=3usize) {
        let mut pick = rng.random_range(0..weight);
        let it = CATALOG
            .iter()
            .find(|i| {
                let hit = pick < i.popularity;
                pick = pick.saturating_sub(i.popularity);
                hit
            })
            .unwrap_or(&CATALOG[0]);
        if lines.iter().any(|l| l.sku == it.sku) {
            continue;
        }
        lines.push(Line {
            sku: it.sku,
            title: it.title,
            quantity: if it.price_cents < 2000 {
                rng.random_range(1..=3)
            } else {
                1
            },
            price_cents: it.price_cents,
            grams: it.grams,
        });
    }
    let mut o = DemoOrder {
        number,
        channel,
        shopper: shopper(rng),
        lines,
        shipping_cents: 0,
        risky: rng.random_ratio(1, 14),
        placed_at: now,
    };
    // Free shipping from 75.00.
    o.shipping_cents = if o.subtotal_cents() >= 7500 { 0 } else { 695 };
    if o.risky {
        o.shopper.email = format!("x{}q{}@mailinator.com", number * 7919 % 100_000, number);
    }
    o
}

fn address(o: &DemoOrder) -> Value {
    let s = &o.shopper;
    if o.risky {
        return json!({ "line1": "12 Marina Road", "city": "Lagos", "postalCode": "100001", "country": "NG" });
    }
    json!({ "line1": s.street, "city": s.city, "region": s.region, "postalCode": s.postal, "country": "US" })
}

fn billing(o: &DemoOrder) -> Value {
    if o.risky {
        json!({ "line1": "5 Harbour Street", "city": "Portsmouth", "postalCode": "PO1 3AX", "country": "GB" })
    } else {
        address(o)
    }
}

fn ip(o: &DemoOrder) -> String {
    if o.risky {
        format!("203.0.113.{}", o.number % 250)
    } else {
        format!("198.51.100.{}", o.number % 250)
    }
}

/// The `createOrder` input.
pub fn api_input(o: &DemoOrder) -> Value {
    let name = json!({ "name": format!("{} {}", o.shopper.first, o.shopper.last) });
    let with_name = |mut a: Value| {
        a["name"] = name["name"].clone();
        a
    };
    let mut client = json!({ "ip": ip(o), "deviceId": format!("demo-device-{}", o.number) });
    if o.risky {
        client["ipCountry"] = json!("RU");
    }
    json!({
        "externalId": format!("DEMO-{}", o.number),
        "name": format!("#A{}", 1000 + o.number),
        "email": o.shopper.email, "firstName": o.shopper.first, "lastName": o.shopper.last,
        "placedAt": o.placed_at.to_rfc3339(),
        "shippingAddress": with_name(address(o)), "billingAddress": with_name(billing(o)),
        "lines": o.lines.iter().map(|l| json!({ "sku": l.sku, "quantity": l.quantity, "unitPrice": money(l.price_cents) })).collect::<Vec<_>>(),
        "shippingLines": [{ "title": if o.shipping_cents == 0 { "Free shipping" } else { "Standard" }, "price": money(o.shipping_cents) }],
        "client": client,
        "payment": { "status": "PAID", "amountCaptured": money(o.total_cents()), "avsResult": if o.risky { "N" } else { "Y" }, "cvvResult": "M", "cardBrand": "visa", "cardLast4": format!("{:04}", 4000 + o.number % 1000), "reference": format!("pi_demo_{}", o.number) },
    })
}

fn shopify_address(o: &DemoOrder, a: &Value) -> Value {
    json!({
        "first_name": o.shopper.first, "last_name": o.shopper.last,
        "name": format!("{} {}", o.shopper.first, o.shopper.last),
        "address1": a["line1"], "address2": null, "city": a["city"], "zip": a["postalCode"],
        "province_code": a.get("region").cloned().unwrap_or(Value::Null),
        "country_code": a["country"], "phone": null, "company": null,
    })
}

/// Shopify's `orders/create` payload (the fixture the platform documents) with this order's
/// facts.
pub fn shopify_payload(o: &DemoOrder) -> Value {
    let mut p: Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/shopify/webhook_orders_create.json"
    ))
    .unwrap_or_else(|_| json!({}));
    let id = SHOPIFY_IDS + o.number;
    let at = o.placed_at.to_rfc3339();
    let lines: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "id": id * 10 + i as u64, "sku": l.sku, "title": l.title, "name": l.title,
                "quantity": l.quantity, "price": money(l.price_cents), "grams": l.grams,
                "requires_shipping": true, "total_discount": "0.00", "discount_allocations": [],
                "tax_lines": [], "variant_title": null, "fulfillment_status": null,
            })
        })
        .collect();
    let set = |p: &mut Value, k: &str, v: Value| {
        p[k] = v;
    };
    set(&mut p, "id", json!(id));
    set(&mut p, "name", json!(format!("#S{}", 1000 + o.number)));
    set(&mut p, "order_number", json!(1000 + o.number));
    set(&mut p, "email", json!(o.shopper.email));
    set(&mut p, "contact_email", json!(o.shopper.email));
    for k in ["created_at", "processed_at", "updated_at"] {
        set(&mut p, k, json!(at));
    }
    set(&mut p, "currency", json!("USD"));
    set(&mut p, "financial_status", json!("paid"));
    set(&mut p, "fulfillment_status", Value::Null);
    set(&mut p, "test", json!(false));
    set(&mut p, "cancelled_at", Value::Null);
    set(&mut p, "cancel_reason", Value::Null);
    set(&mut p, "line_items", json!(lines));
    set(
        &mut p,
        "shipping_lines",
        json!([{ "title": "Standard", "code": "standard", "price": money(o.shipping_cents), "discounted_price": money(o.shipping_cents), "tax_lines": [] }]),
    );
    set(
        &mut p,
        "total_shipping_price_set",
        json!({ "shop_money": { "amount": money(o.shipping_cents), "currency_code": "USD" } }),
    );
    set(
        &mut p,
        "total_line_items_price",
        json!(money(o.subtotal_cents())),
    );
    set(&mut p, "subtotal_price", json!(money(o.subtotal_cents())));
    set(&mut p, "total_discounts", json!("0.00"));
    set(&mut p, "total_tax", json!("0.00"));
    set(&mut p, "total_price", json!(money(o.total_cents())));
    set(&mut p, "total_outstanding", json!("0.00"));
    set(&mut p, "discount_codes", json!([]));
    set(&mut p, "tax_lines", json!([]));
    set(&mut p, "taxes_included", json!(false));
    set(&mut p, "tags", json!(""));
    set(&mut p, "note", Value::Null);
    for k in ["fulfillments", "refunds", "returns"] {
        set(&mut p, k, json!([]));
    }
    set(
        &mut p,
        "customer",
        json!({ "id": 7_000_000 + o.number % 40, "email": o.shopper.email, "first_name": o.shopper.first, "last_name": o.shopper.last, "phone": null }),
    );
    set(&mut p, "billing_address", shopify_address(o, &billing(o)));
    set(&mut p, "shipping_address", shopify_address(o, &address(o)));
    set(&mut p, "browser_ip", json!(ip(o)));
    set(
        &mut p,
        "client_details",
        json!({ "browser_ip": ip(o), "accept_language": "en-US", "user_agent": "Mozilla/5.0", "session_hash": format!("sess-{}", o.number) }),
    );
    set(&mut p, "payment_gateway_names", json!(["shopify_payments"]));
    set(
        &mut p,
        "payment_details",
        json!({ "avs_result_code": if o.risky { "N" } else { "Y" }, "cvv_result_code": "M", "credit_card_company": "Visa", "credit_card_number": format!("•••• •••• •••• {:04}", 4000 + o.number % 1000) }),
    );
    p
}

fn woo_address(o: &DemoOrder, a: &Value, email: bool) -> Value {
    let mut w = json!({
        "first_name": o.shopper.first, "last_name": o.shopper.last, "company": "",
        "address_1": a["line1"], "address_2": "", "city": a["city"],
        "state": a.get("region").cloned().unwrap_or(json!("")), "postcode": a["postalCode"],
        "country": a["country"], "phone": "",
    });
    if email {
        w["email"] = json!(o.shopper.email);
    }
    w
}

/// WooCommerce's `order.created` payload (the fixture's, REST API v3) with this order's facts.
pub fn woocommerce_payload(o: &DemoOrder) -> Value {
    let mut p: Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/woocommerce/order_created_727_wp_api_v3.json"
    ))
    .unwrap_or_else(|_| json!({}));
    let id = WOO_IDS + o.number;
    let at = o.placed_at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let lines: Vec<Value> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let total = money(l.price_cents * l.quantity);
            json!({
                "id": id * 10 + i as u64, "name": l.title, "product_id": 1000 + i, "variation_id": 0,
                "quantity": l.quantity, "tax_class": "", "subtotal": total, "subtotal_tax": "0.00",
                "total": total, "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": l.sku,
                "price": l.price_cents as f64 / 100.0,
            })
        })
        .collect();
    p["id"] = json!(id);
    p["number"] = json!(format!("W{}", 1000 + o.number));
    p["status"] = json!("processing");
    p["currency"] = json!("USD");
    for k in [
        "date_created",
        "date_created_gmt",
        "date_modified",
        "date_modified_gmt",
        "date_paid",
        "date_paid_gmt",
    ] {
        p[k] = json!(at);
    }
    p["discount_total"] = json!("0.00");
    p["discount_tax"] = json!("0.00");
    p["shipping_total"] = json!(money(o.shipping_cents));
    p["shipping_tax"] = json!("0.00");
    p["cart_tax"] = json!("0.00");
    p["total"] = json!(money(o.total_cents()));
    p["total_tax"] = json!("0.00");
    p["prices_include_tax"] = json!(false);
    p["customer_id"] = json!(0);
    p["customer_ip_address"] = json!(ip(o));
    p["customer_note"] = json!("");
    p["billing"] = woo_address(o, &billing(o), true);
    p["shipping"] = woo_address(o, &address(o), false);
    p["payment_method"] = json!("stripe");
    p["payment_method_title"] = json!("Credit card (Stripe)");
    p["transaction_id"] = json!(format!("ch_demo_{}", o.number));
    p["line_items"] = json!(lines);
    p["tax_lines"] = json!([]);
    p["shipping_lines"] = json!([{ "id": id * 10 + 9, "method_title": "Flat rate", "method_id": "flat_rate", "total": money(o.shipping_cents), "total_tax": "0.00", "taxes": [] }]);
    p["fee_lines"] = json!([]);
    p["coupon_lines"] = json!([]);
    p["refunds"] = json!([]);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::{shopify, woocommerce};
    use rand::SeedableRng;
    use rust_decimal::Decimal;

    #[test]
    fn the_channels_read_the_demo_payloads_as_the_demo_meant_them() {
        let mut rng = StdRng::seed_from_u64(1);
        let now = Utc::now();
        for n in 0..60 {
            let o = order(&mut rng, n, now);
            let total = Decimal::new(o.total_cents(), 2);
            let s = shopify::map_order(&shopify_payload(&o)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.totals.total, total);
            assert_eq!(s.payment.amount_captured, total);
            assert_eq!(s.lines.len(), o.lines.len());
            assert_eq!(s.lines[0].sku.as_deref(), Some(o.lines[0].sku));
            assert_eq!(s.customer.email.as_deref(), Some(o.shopper.email.as_str()));
            let w =
                woocommerce::map_order(&woocommerce_payload(&o)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(w.totals.total, total);
            assert_eq!(w.payment.amount_captured, total);
            assert_eq!(
                w.shipping_address.map(|a| a.country),
                Some(if o.risky { "NG" } else { "US" }.to_owned())
            );
            let line_sum: Decimal = w
                .lines
                .iter()
                .map(|l| l.unit_price * Decimal::from(l.quantity))
                .sum();
            assert_eq!(line_sum + Decimal::new(o.shipping_cents, 2), total);
        }
    }

    #[test]
    fn the_scarce_items_run_out_between_the_suppliers_deliveries() {
        // Opening stock 1 teapot; the supplier brings 2 every 25 orders.
        let mut rng = StdRng::seed_from_u64(2026);
        let now = Utc::now();
        let orders: Vec<DemoOrder> = (0..100).map(|n| order(&mut rng, n, now)).collect();
        let demand = |sku: &str| -> i64 {
            orders
                .iter()
                .filter(|o| !o.risky)
                .flat_map(|o| o.lines.iter())
                .filter(|l| l.sku == sku)
                .map(|l| l.quantity)
                .sum()
        };
        assert!(
            demand("TEAPOT-CAST") > 1 + 2 * 4,
            "{}",
            demand("TEAPOT-CAST")
        );
        assert!(demand("KETTLE-STEEL") < 100, "the common items last");
    }

    #[test]
    fn a_restart_finds_the_numbers_in_the_external_ids() {
        let mut rng = StdRng::seed_from_u64(3);
        let o = order(&mut rng, 41, Utc::now());
        let s = shopify::map_order(&shopify_payload(&o)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(number_of("shopify", &s.external_id), Some(41));
        let w = woocommerce::map_order(&woocommerce_payload(&o)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(number_of("woocommerce", &w.external_id), Some(41));
        assert_eq!(number_of("api", "DEMO-41"), Some(41));
        assert_eq!(number_of("api", "ERP-7"), None);
        assert_eq!(
            number_of("shopify", "820982911946154508"),
            Some(820_982_911_946_154_508 - SHOPIFY_IDS)
        );
    }

    #[test]
    fn a_stream_mixes_channels_and_has_some_fraud() {
        let mut rng = StdRng::seed_from_u64(7);
        let now = Utc::now();
        let orders: Vec<DemoOrder> = (0..200).map(|n| order(&mut rng, n, now)).collect();
        for c in [Channel::Shopify, Channel::Woocommerce, Channel::Api] {
            assert!(orders.iter().filter(|o| o.channel == c).count() >= 40);
        }
        let risky = orders.iter().filter(|o| o.risky).count();
        assert!((5..=30).contains(&risky), "{risky}");
        let emails: std::collections::HashSet<&str> = orders
            .iter()
            .filter(|o| !o.risky)
            .map(|o| o.shopper.email.as_str())
            .collect();
        assert!(emails.len() <= 40, "returning shoppers");
    }
}
