//! Each platform's own payloads become exactly the canonical order they describe: every line,
//! amount, tax line, address and customer field.

use orderflow::channels::{Mapped, shopify, woocommerce};
use orderflow::lifecycle::capture::validate;
use orderflow::order::canonical::{CanonicalOrder, FinancialStatus, FulfillmentStatus};
use rust_decimal::Decimal;
use serde_json::Value;

pub fn fixture(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn mapped(result: Result<Mapped, String>) -> CanonicalOrder {
    match result.unwrap() {
        Mapped::Order(o) => *o,
        Mapped::Ignored(why) => panic!("ignored: {why}"),
    }
}

fn lines(o: &CanonicalOrder) -> Vec<(Option<&str>, i64, Decimal, Decimal)> {
    o.lines
        .iter()
        .map(|l| (l.sku.as_deref(), l.quantity, l.unit_price, l.discount))
        .collect()
}

#[test]
fn shopify_orders_create_webhook_maps_every_field() {
    let o = mapped(shopify::map(
        "orders/create",
        &fixture_json("shopify/webhook_orders_create.json"),
    ));
    assert_eq!(
        o.external_id, "820982911946154508",
        "ids beyond 2^53 keep every digit"
    );
    assert_eq!(o.name, "#9999");
    assert_eq!(o.currency, "USD");
    assert_eq!(o.placed_at.to_rfc3339(), "2022-01-01T00:00:00+00:00");
    assert_eq!(
        o.source_updated_at.unwrap().to_rfc3339(),
        "2022-01-01T00:00:00+00:00"
    );
    assert_eq!(
        lines(&o),
        vec![
            (Some("SKU2006-001"), 1, d("89.99"), d("0")),
            (Some("LENS-PROTECT-2YR"), 1, d("19.99"), d("0")),
            (Some("CASE-LEATHER-PREM"), 1, d("24.99"), d("0")),
            (Some("SKU2006-020"), 1, d("159.99"), d("0")),
            (Some("SKU2006-035"), 1, d("119.99"), d("0")),
        ]
    );
    assert_eq!(o.lines[0].title, "Aviator sunglasses");
    assert_eq!(o.lines[0].grams, Some(100));
    assert_eq!(
        o.lines[0].external_id.as_deref(),
        Some("487817672276298554")
    );
    assert!(o.lines.iter().all(|l| l.tax_lines.is_empty()));
    assert_eq!(
        (
            o.totals.subtotal,
            o.totals.discounts,
            o.totals.tax,
            o.totals.shipping,
            o.totals.total
        ),
        (d("414.95"), d("20.00"), d("0.00"), d("10.00"), d("404.95"))
    );
    assert_eq!(
        validate::check_totals(&o),
        vec![],
        "lines − discounts + tax + shipping = total"
    );
    assert_eq!(o.shipping_lines.len(), 1);
    assert_eq!(
        (
            o.shipping_lines[0].title.as_str(),
            o.shipping_lines[0].price,
            o.shipping_lines[0].discount
        ),
        ("Generic Shipping", d("10.00"), d("10.00"))
    );
    let ship = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (
            ship.name.as_deref(),
            ship.company.as_deref(),
            ship.line1.as_str(),
            ship.city.as_str(),
            ship.region.as_deref(),
            ship.postal_code.as_deref(),
            ship.country.as_str(),
            ship.phone.as_deref()
        ),
        (
            Some("Steve Shipper"),
            Some("Shipping Company"),
            "123 Shipping Street",
            "Shippington",
            Some("KY"),
            Some("40003"),
            "US",
            Some("555-555-SHIP")
        )
    );
    assert_eq!(o.billing_address, o.shipping_address);
    assert_eq!(
        o.customer.email.as_deref(),
        Some("jon@example.com"),
        "the order's email, not the account's"
    );
    assert_eq!(
        (
            o.customer.first_name.as_deref(),
            o.customer.last_name.as_deref()
        ),
        (Some("John"), Some("Smith"))
    );
    assert_eq!(
        o.customer.external_id.as_deref(),
        Some("115310627314723954")
    );
    assert_eq!(o.financial_status, FinancialStatus::Voided);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert_eq!(o.payment.gateway.as_deref(), Some("visa"));
    assert_eq!(o.payment.amount_captured, d("0"));
    assert_eq!(
        o.cancelled_at.unwrap().to_rfc3339(),
        "2022-01-01T00:00:00+00:00"
    );
    assert_eq!(o.cancel_reason.as_deref(), Some("customer"));
    assert_eq!(o.tags, vec!["tag1", "tag2"]);
    assert_eq!(o.client.language.as_deref(), Some("en"));
    assert!(o.test);
}

#[test]
fn shopify_rest_order_maps_tax_lines_payment_and_client_details() {
    let body = fixture_json("shopify/rest_order.json");
    let o = shopify::map_order(&body["order"]).unwrap();
    assert_eq!(
        (o.external_id.as_str(), o.name.as_str()),
        ("450789469", "#1001")
    );
    assert_eq!(
        lines(&o).iter().map(|l| l.0.unwrap()).collect::<Vec<_>>(),
        vec!["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    );
    assert_eq!(o.lines[1].variant_title.as_deref(), Some("red"));
    assert_eq!(
        (
            o.totals.subtotal,
            o.totals.tax,
            o.totals.shipping,
            o.totals.total
        ),
        (d("398.00"), d("11.94"), d("0.00"), d("409.94"))
    );
    // This fixture's three 199.00 lines add up to 597.00, yet Shopify's own figures say 398.00:
    // kept as the platform says, and flagged for staff.
    let issues = validate::check_totals(&o);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].field.as_deref(), Some("totals.subtotal"));
    assert!(
        issues[0].message.contains("597.00"),
        "{}",
        issues[0].message
    );
    assert_eq!(o.discounts.len(), 1);
    assert_eq!(
        (o.discounts[0].code.as_deref(), o.discounts[0].amount),
        (Some("TENOFF"), d("10.00"))
    );
    assert_eq!(o.financial_status, FinancialStatus::Authorized);
    assert_eq!(
        (o.payment.amount_captured, o.payment.amount_authorized),
        (d("0"), d("409.94"))
    );
    assert_eq!(o.payment.gateway.as_deref(), Some("authorize_net"));
    assert_eq!(
        (
            o.payment.card_brand.as_deref(),
            o.payment.card_last4.as_deref()
        ),
        (Some("Visa"), Some("4242"))
    );
    assert_eq!(o.client.ip.as_deref(), Some("0.0.0.0"));
    assert_eq!(o.customer.email.as_deref(), Some("bob.norman@hostmail.com"));
    assert_eq!(
        o.shipping_address.as_ref().unwrap().postal_code.as_deref(),
        Some("40202")
    );
    assert_eq!(
        o.shipping_address.as_ref().unwrap().line2,
        None,
        "empty strings are absent"
    );
    assert_eq!(o.shipping_lines[0].title, "Free Shipping");
}

#[test]
fn shopify_topics_other_than_orders_are_kept_but_ignored() {
    let body = fixture_json("shopify/webhook_orders_delete.json");
    assert!(matches!(
        shopify::map("orders/delete", &body).unwrap(),
        Mapped::Ignored(_)
    ));
}

#[test]
fn woocommerce_order_created_maps_every_field() {
    let o = mapped(woocommerce::map(
        "order.created",
        &fixture_json("woocommerce/order_created_727_wp_api_v3.json"),
    ));
    assert_eq!(
        (o.external_id.as_str(), o.name.as_str(), o.currency.as_str()),
        ("727", "#727", "USD")
    );
    assert_eq!(
        o.placed_at.to_rfc3339(),
        "2017-03-22T19:28:02+00:00",
        "the _gmt time"
    );
    assert_eq!(
        o.source_updated_at.unwrap().to_rfc3339(),
        "2017-03-22T19:28:08+00:00"
    );
    assert_eq!(
        lines(&o),
        vec![
            (None, 2, d("3"), d("0")),
            (Some("Bar3"), 1, d("12"), d("0"))
        ]
    );
    assert_eq!(o.lines[0].title, "Woo Single #1");
    assert_eq!(
        o.lines[1].title, "Ship Your Idea – Color: Black, Size: M Test",
        "HTML entities decoded"
    );
    assert_eq!(o.lines[1].variant_title.as_deref(), Some("black / M Test"));
    assert_eq!(o.lines[0].tax_lines.len(), 1);
    assert_eq!(
        (
            o.lines[0].tax_lines[0].title.as_str(),
            o.lines[0].tax_lines[0].amount
        ),
        ("State Tax", d("0.45"))
    );
    assert_eq!(o.lines[1].tax(), d("0.9"));
    assert_eq!(
        (
            o.totals.subtotal,
            o.totals.discounts,
            o.totals.tax,
            o.totals.shipping,
            o.totals.total
        ),
        (d("18"), d("0.00"), d("1.35"), d("10.00"), d("29.35"))
    );
    assert_eq!(validate::check_totals(&o), vec![]);
    assert_eq!(
        (
            o.shipping_lines[0].title.as_str(),
            o.shipping_lines[0].code.as_deref(),
            o.shipping_lines[0].price
        ),
        ("Flat Rate", Some("flat_rate"), d("10.00"))
    );
    let bill = o.billing_address.as_ref().unwrap();
    assert_eq!(
        (
            bill.name.as_deref(),
            bill.line1.as_str(),
            bill.city.as_str(),
            bill.region.as_deref(),
            bill.postal_code.as_deref(),
            bill.country.as_str(),
            bill.phone.as_deref()
        ),
        (
            Some("John Doe"),
            "969 Market",
            "San Francisco",
            Some("CA"),
            Some("94103"),
            "US",
            Some("(555) 555-5555")
        )
    );
    assert_eq!(o.shipping_address.as_ref().unwrap().phone, None);
    assert_eq!(o.customer.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(
        o.customer.external_id, None,
        "guest checkout (customer_id 0)"
    );
    assert_eq!(o.financial_status, FinancialStatus::Paid);
    assert_eq!(o.payment.amount_captured, d("29.35"));
    assert_eq!(
        (o.payment.gateway.as_deref(), o.payment.method.as_deref()),
        (Some("bacs"), Some("Direct Bank Transfer"))
    );
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert!(!o.taxes_included);
}

#[test]
fn woocommerce_order_updated_to_completed_is_fulfilled_and_newer() {
    let created = mapped(woocommerce::map(
        "order.created",
        &fixture_json("woocommerce/order_created_727_wp_api_v3.json"),
    ));
    let updated = mapped(woocommerce::map(
        "order.updated",
        &fixture_json("woocommerce/order_updated_727_wp_api_v3.json"),
    ));
    assert_eq!(updated.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert!(updated.source_updated_at > created.source_updated_at);
    assert_eq!(updated.totals, created.totals);
}

#[test]
fn bigcommerce_order_products_and_addresses_map_every_field() {
    use orderflow::channels::bigcommerce;
    let order = fixture_json("bigcommerce/v2_order_get.json");
    let products = fixture_json("bigcommerce/v2_order_products.json");
    let addresses = fixture_json("bigcommerce/v2_order_shipping_addresses.json");
    let o = bigcommerce::map_order(
        &order,
        products.as_array().unwrap(),
        addresses.as_array().unwrap(),
    )
    .unwrap();
    assert_eq!(
        (o.external_id.as_str(), o.name.as_str(), o.currency.as_str()),
        ("218", "#218", "USD")
    );
    assert_eq!(
        o.placed_at.to_rfc3339(),
        "2019-03-05T21:40:11+00:00",
        "RFC 2822 dates"
    );
    assert_eq!(
        o.source_updated_at.unwrap().to_rfc3339(),
        "2019-03-11T15:17:25+00:00"
    );
    assert_eq!(
        lines(&o),
        vec![
            (Some("S-ORAN"), 1, d("55.9900"), d("1.5900")),
            (Some("ABS"), 1, d("0.0000"), d("0")),
            (None, 1, d("12.3000"), d("0")),
            (None, 1, d("4.0000"), d("0")),
        ],
        "products, then the order's fees"
    );
    assert_eq!(o.lines[0].title, "Fog Linen Chambray Towel - Beige Stripe");
    assert!(
        o.lines[0]
            .variant_title
            .as_deref()
            .unwrap()
            .starts_with("Size: S, Color: Orange")
    );
    assert_eq!(o.lines[0].tax(), d("9.2400"));
    assert!(!o.lines[2].requires_shipping, "fees do not ship");
    assert_eq!(
        (
            o.totals.discounts,
            o.totals.tax,
            o.totals.shipping,
            o.totals.total
        ),
        (d("5.0000"), d("5.3100"), d("11.0900"), d("69.8400"))
    );
    assert_eq!(o.discounts[0].amount, d("5.0000"));
    let ship = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (
            ship.name.as_deref(),
            ship.company.as_deref(),
            ship.line1.as_str(),
            ship.city.as_str(),
            ship.region.as_deref(),
            ship.postal_code.as_deref(),
            ship.country.as_str()
        ),
        (
            Some("Trishy Smith"),
            Some("Acme Pty Ltd"),
            "666 Sussex St",
            "San Antonio",
            Some("Texas"),
            Some("78251"),
            "US"
        )
    );
    let bill = o.billing_address.as_ref().unwrap();
    assert_eq!(
        (
            bill.line1.as_str(),
            bill.postal_code.as_deref(),
            bill.phone.as_deref()
        ),
        ("555 East Street", Some("78108"), Some("1234567890"))
    );
    assert_eq!(o.customer.email.as_deref(), Some("janedoe@example.com"));
    assert_eq!(o.customer.external_id.as_deref(), Some("11"));
    assert_eq!(
        o.financial_status,
        FinancialStatus::Authorized,
        "Awaiting Payment, authorized"
    );
    assert_eq!(o.payment.method.as_deref(), Some("Cash"));
    assert_eq!(o.client.language.as_deref(), Some("en"));
    // The documentation's examples come from three different orders, so their sums differ:
    // captured as sent, flagged by the checks.
    assert!(!validate::check_totals(&o).is_empty());
}

#[test]
fn amazon_order_with_its_items_maps_every_field() {
    use orderflow::channels::amazon;
    let order = fixture_json("amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json");
    let items = fixture_json("amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json");
    let o = amazon::map_order(
        &order["payload"],
        items["payload"]["OrderItems"].as_array().unwrap(),
    )
    .unwrap();
    assert_eq!(
        (o.external_id.as_str(), o.name.as_str(), o.currency.as_str()),
        ("902-1845936-5435065", "902-1845936-5435065", "USD")
    );
    assert_eq!(o.placed_at.to_rfc3339(), "1970-01-19T03:58:30+00:00");
    assert_eq!(
        o.source_updated_at.unwrap().to_rfc3339(),
        "1970-01-19T03:58:32+00:00"
    );
    assert_eq!(
        lines(&o),
        vec![(Some("NABetaASINB00551Q3CS"), 1, d("10.00"), d("0.00"))]
    );
    assert_eq!(o.lines[0].title, "B00551Q3CS [Card Book]");
    assert_eq!(o.lines[0].tax(), d("1.01"));
    assert_eq!(
        (
            o.totals.subtotal,
            o.totals.tax,
            o.totals.shipping,
            o.totals.total
        ),
        (d("10.00"), d("1.01"), d("0"), d("11.01"))
    );
    assert_eq!(
        validate::check_totals(&o),
        vec![],
        "10.00 + 1.01 tax = 11.01"
    );
    assert!(!o.taxes_included, "Amazon.com prices exclude sales tax");
    assert_eq!(
        o.financial_status,
        FinancialStatus::Paid,
        "Unshipped: charged, not yet shipped"
    );
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert_eq!(o.payment.amount_captured, d("11.01"));
    assert_eq!(o.payment.method.as_deref(), Some("Standard"));
    assert_eq!(
        o.shipping_address, None,
        "restricted data: not in getOrder without an RDT"
    );

    // The documentation example carries a shipping address and buyer info.
    let example = fixture_json("amazon/sp_api_orders_v0_getOrder_example.json");
    let items = fixture_json("amazon/sp_api_orders_v0_getOrderItems_example.json");
    let o = amazon::map_order(
        &example["payload"],
        items["payload"]["OrderItems"].as_array().unwrap(),
    )
    .unwrap();
    let ship = o.shipping_address.as_ref().unwrap();
    assert_eq!(
        (
            ship.name.as_deref(),
            ship.line1.as_str(),
            ship.city.as_str(),
            ship.region.as_deref(),
            ship.postal_code.as_deref(),
            ship.country.as_str()
        ),
        (
            Some("Michigan address"),
            "1 Cross St.",
            "Canton",
            Some("MI"),
            Some("48817"),
            "US"
        )
    );
    assert_eq!(o.customer.email.as_deref(), Some("user@example.com"));
    assert_eq!(
        (
            o.customer.first_name.as_deref(),
            o.customer.last_name.as_deref()
        ),
        (Some("John"), Some("Doe"))
    );
    assert_eq!(
        o.financial_status,
        FinancialStatus::Pending,
        "Pending: not charged yet"
    );
    // ItemPrice is for the whole quantity: 17.95 for two is 8.975 each.
    assert_eq!(
        lines(&o)[2],
        (Some("CBA_OTF_5"), 2, d("8.975"), d("0")),
        "after the first item's gift wrap"
    );
    assert_eq!(o.shipping_lines[0].price, d("1.26"));
    assert!(
        o.lines
            .iter()
            .any(|l| l.title == "Gift wrap" && !l.requires_shipping)
    );

    let de = fixture_json("amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_IBA_200.json");
    let o = amazon::map_order(&de["payload"], &[]).unwrap();
    assert_eq!((o.currency.as_str(), o.totals.total), ("EUR", d("100.00")));
    assert!(o.taxes_included, "Amazon.de prices include VAT");
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert!(o.tags.contains(&"fba".to_owned()) && o.tags.contains(&"business".to_owned()));
}

#[test]
fn every_etsy_receipt_field_read_is_one_etsy_documents() {
    // No recorded Etsy receipt is available (see fixtures/SOURCES.md), so the mapping is
    // checked against Etsy's published schema: each field it reads must be there, or be
    // one of the fields the live API added since that schema.
    let schema = fixture_json("etsy/openapi_2021_ShopReceipt_schemas.json");
    let has = |object: &str, field: &str| schema[object]["properties"].get(field).is_some();
    let added_since = [
        "transactions",
        "buyer_email",
        "status",
        "updated_timestamp",
        "created_timestamp",
        "sku",
        "variations",
    ];
    for field in [
        "receipt_id",
        "grandtotal",
        "total_price",
        "total_shipping_cost",
        "total_tax_cost",
        "total_vat_cost",
        "discount_amt",
        "gift_wrap_price",
        "is_paid",
        "is_shipped",
        "create_timestamp",
        "update_timestamp",
        "name",
        "first_line",
        "second_line",
        "city",
        "state",
        "zip",
        "country_iso",
        "payment_email",
        "payment_method",
        "buyer_user_id",
        "message_from_buyer",
        "transactions",
        "buyer_email",
        "status",
        "updated_timestamp",
    ] {
        assert!(
            has("ShopReceipt", field) || added_since.contains(&field),
            "ShopReceipt.{field}"
        );
    }
    for field in [
        "transaction_id",
        "title",
        "quantity",
        "price",
        "shipping_cost",
        "is_digital",
        "sku",
        "variations",
    ] {
        assert!(
            has("ShopReceiptTransaction", field) || added_since.contains(&field),
            "ShopReceiptTransaction.{field}"
        );
    }
    for field in ["amount", "divisor", "currency_code"] {
        assert!(has("Money", field), "Money.{field}");
    }
}
