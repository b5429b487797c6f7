//! The channel mappers read whatever a platform (or anyone holding a leaked secret) posts:
//! they answer an order or an error for any JSON, never a panic, and what they answer is fit
//! for the capture checks that follow.

use orderflow::channels::poll::POLL_TOPIC;
use orderflow::channels::{Mapped, amazon, bigcommerce, etsy, json as read, shopify, woocommerce};
use orderflow::lifecycle::capture::validate;
use orderflow::order::canonical::CanonicalOrder;
use orderflow::order::issues::IssueCode;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::schema::etsy_receipt;
use crate::strategies::{arb_json, edge_text, leaf, list, mutated};
use crate::{config, fixture};

/// The cap `channels::json` puts on amounts and counts (private there): anything beyond is
/// refused as absent, so no mapped line may exceed it.
const CAP: i64 = 1_000_000_000_000;

/// What every mapped order must satisfy, and what every error must say.
fn check(result: Result<CanonicalOrder, String>) -> Result<(), TestCaseError> {
    let order = match result {
        Ok(order) => order,
        Err(e) => {
            prop_assert!(!e.trim().is_empty(), "an error says what is wrong");
            return Ok(());
        }
    };
    prop_assert!(!order.external_id.is_empty() && !order.currency.is_empty());
    for (i, l) in order.lines.iter().enumerate() {
        prop_assert!(
            l.quantity.unsigned_abs() <= CAP as u64,
            "lines.{i}.quantity {}",
            l.quantity
        );
        prop_assert!(
            l.unit_price.abs() <= Decimal::from(CAP),
            "lines.{i}.unitPrice {}",
            l.unit_price
        );
        prop_assert!(
            l.unit_price
                .checked_mul(Decimal::from(l.quantity))
                .is_some()
        );
    }
    // The order is captured even when a quantity is not positive: the checks flag exactly
    // those lines, and none of the checks may panic on what a mapper let through.
    let flagged: Vec<String> = validate::check_lines(&order.lines, |_| true)
        .into_iter()
        .filter(|issue| issue.code == IssueCode::BadQuantity)
        .filter_map(|issue| issue.field)
        .collect();
    let expected: Vec<String> = order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.quantity <= 0)
        .map(|(i, _)| format!("lines.{i}.quantity"))
        .collect();
    prop_assert_eq!(flagged, expected);
    validate::check_totals(&order);
    validate::check_shipping_address(&order);
    Ok(())
}

fn check_mapped(result: Result<Mapped, String>) -> Result<(), TestCaseError> {
    match result {
        Ok(Mapped::Order(order)) => check(Ok(*order)),
        Ok(Mapped::Ignored(why)) => {
            prop_assert!(!why.is_empty(), "an ignored delivery says why");
            Ok(())
        }
        Err(e) => check(Err(e)),
    }
}

fn topic() -> impl Strategy<Value = String> {
    const TOPICS: &[&str] = &[
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/delete",
        "order.created",
        "order.updated",
        "order.deleted",
        "order.restored",
        "unknown",
        POLL_TOPIC,
    ];
    prop_oneof![3 => prop::sample::select(TOPICS).prop_map(str::to_owned), 1 => any::<String>()]
}

/// BigCommerce's order, products and shipping addresses as one value, so that one mutation
/// can reach any of them.
fn bigcommerce_base(order: &str) -> Value {
    json!({
        "order": fixture(order),
        "products": fixture("bigcommerce/v2_order_products.json"),
        "shipping": fixture("bigcommerce/v2_order_shipping_addresses.json"),
    })
}

fn amazon_base(order: &str, items: &str) -> Value {
    json!({
        "order": fixture(order)["payload"],
        "items": fixture(items)["payload"]["OrderItems"],
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn shopify_answers_any_json_with_an_order_or_a_reason(v in arb_json(), topic in topic()) {
        check(shopify::map_order(&v))?;
        check_mapped(shopify::map(&topic, &v))?;
    }

    #[test]
    fn woocommerce_answers_any_json_with_an_order_or_a_reason(v in arb_json(), topic in topic()) {
        check(woocommerce::map_order(&v))?;
        check_mapped(woocommerce::map(&topic, &v))?;
    }

    #[test]
    fn bigcommerce_answers_any_json_with_an_order_or_a_reason(
        v in arb_json(),
        products in prop::collection::vec(arb_json(), 0..4),
        shipping in prop::collection::vec(arb_json(), 0..3),
    ) {
        check(bigcommerce::map_order(&v, &products, &shipping))?;
    }

    #[test]
    fn amazon_answers_any_json_with_an_order_or_a_reason(
        v in arb_json(),
        items in prop::collection::vec(arb_json(), 0..4),
    ) {
        check(amazon::map_order(&v, &items))?;
    }

    #[test]
    fn etsy_answers_any_json_with_an_order_or_a_reason(v in arb_json()) {
        check(etsy::map_receipt(&v))?;
    }

    #[test]
    fn woocommerce_entities_decode_to_no_more_characters_than_they_take(s in any::<String>()) {
        let decoded = woocommerce::decode_entities(&s);
        prop_assert!(decoded.chars().count() <= s.chars().count());
        if !s.contains('&') {
            prop_assert_eq!(decoded, s);
        }
    }

    #[test]
    fn woocommerce_entities_undo_html_escaping(s in any::<String>()) {
        let escaped = s
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        prop_assert_eq!(woocommerce::decode_entities(&escaped), s);
    }

    #[test]
    fn woocommerce_numeric_entities_name_any_character(c in any::<char>()) {
        let code = u32::from(c);
        prop_assert_eq!(woocommerce::decode_entities(&format!("&#x{code:x};")), c.to_string());
        prop_assert_eq!(woocommerce::decode_entities(&format!("&#{code};")), c.to_string());
    }

    #[test]
    fn etsy_money_is_its_amount_over_its_divisor(
        amount in prop_oneof![-2 * CAP..2 * CAP, any::<i64>()],
        divisor in prop_oneof![
            prop::sample::select(vec![1i64, 10, 100, 1000, 0, -1, 3, 7, CAP, i64::MAX]),
            any::<i64>(),
        ],
    ) {
        let v = json!({ "m": { "amount": amount, "divisor": divisor, "currency_code": "USD" } });
        // A divisor that is not positive, or beyond the cap, counts as 1.
        let effective = if (1..=CAP).contains(&divisor) { divisor } else { 1 };
        match etsy::money(&v, "m") {
            None => prop_assert!(amount.unsigned_abs() > CAP as u64, "{amount} is within the cap"),
            Some((value, currency)) => {
                prop_assert!(amount.unsigned_abs() <= CAP as u64, "{amount} is beyond the cap");
                prop_assert_eq!(currency.as_deref(), Some("USD"));
                let off = (value * Decimal::from(effective) - Decimal::from(amount)).abs();
                prop_assert!(off < Decimal::new(1, 9), "{value} × {effective} ≠ {amount}");
            }
        }
    }

    #[test]
    fn every_mapper_reads_fields_within_the_caps(v in leaf()) {
        // What every mapper reads its fields with: counts and amounts beyond the caps are
        // absent, and text is trimmed, non-empty and free of control characters.
        let v = json!({ "f": v });
        if let Some(n) = read::int(&v, "f") {
            prop_assert!(n.unsigned_abs() <= CAP as u64, "count {n}");
        }
        if let Some(d) = read::decimal(&v, "f") {
            prop_assert!(d.abs() < Decimal::from(CAP), "amount {d}");
        }
        if let Some(t) = read::text(&v, "f") {
            prop_assert!(!t.is_empty() && t.trim() == t);
            prop_assert!(t.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'), "{t:?}");
        }
        let _ = read::time(&v, "f");
    }

    #[test]
    fn etsy_money_reads_anything_without_panicking(v in arb_json(), path in edge_text()) {
        let _ = etsy::money(&v, &path);
    }
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn shopify_webhook_orders_with_fields_replaced_map_or_explain(
        v in mutated(fixture("shopify/webhook_orders_create.json"), 4),
        topic in topic(),
    ) {
        check(shopify::map_order(&v))?;
        check_mapped(shopify::map(&topic, &v))?;
    }

    #[test]
    fn shopify_rest_orders_with_fields_replaced_map_or_explain(
        v in mutated(fixture("shopify/rest_order.json")["order"].clone(), 4),
    ) {
        check(shopify::map_order(&v))?;
    }

    #[test]
    fn woocommerce_orders_with_fields_replaced_map_or_explain(v in prop_oneof![
        mutated(fixture("woocommerce/order_created_727_wp_api_v3.json"), 4),
        mutated(fixture("woocommerce/order_updated_727_wp_api_v3.json"), 4),
    ]) {
        check(woocommerce::map_order(&v))?;
    }

    #[test]
    fn bigcommerce_orders_with_fields_replaced_map_or_explain(v in prop_oneof![
        mutated(bigcommerce_base("bigcommerce/v2_order_get.json"), 4),
        mutated(bigcommerce_base("bigcommerce/v2_order_get_multiple_items.json"), 4),
    ]) {
        check(bigcommerce::map_order(&v["order"], list(&v["products"]), list(&v["shipping"])))?;
    }

    #[test]
    fn amazon_orders_with_fields_replaced_map_or_explain(v in prop_oneof![
        mutated(amazon_base(
            "amazon/sp_api_orders_v0_getOrder_example.json",
            "amazon/sp_api_orders_v0_getOrderItems_example.json",
        ), 4),
        mutated(amazon_base(
            "amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json",
            "amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json",
        ), 4),
    ]) {
        check(amazon::map_order(&v["order"], list(&v["items"])))?;
    }

    #[test]
    fn etsy_receipts_shaped_by_the_schema_map_or_explain(v in etsy_receipt()) {
        check(etsy::map_receipt(&v))?;
    }
}

/// The mutations start from orders that map: otherwise they would only ever test the errors.
#[test]
fn every_fixture_maps_before_it_is_mutated() {
    shopify::map_order(&fixture("shopify/webhook_orders_create.json")).unwrap();
    shopify::map_order(&fixture("shopify/rest_order.json")["order"]).unwrap();
    for path in [
        "woocommerce/order_created_727_wp_api_v3.json",
        "woocommerce/order_updated_727_wp_api_v3.json",
    ] {
        woocommerce::map_order(&fixture(path)).unwrap();
    }
    for path in [
        "bigcommerce/v2_order_get.json",
        "bigcommerce/v2_order_get_multiple_items.json",
    ] {
        let v = bigcommerce_base(path);
        bigcommerce::map_order(&v["order"], list(&v["products"]), list(&v["shipping"])).unwrap();
    }
    for (order, items) in [
        (
            "amazon/sp_api_orders_v0_getOrder_example.json",
            "amazon/sp_api_orders_v0_getOrderItems_example.json",
        ),
        (
            "amazon/sp_api_orders_v0_getOrder_sandbox_TEST_CASE_200.json",
            "amazon/sp_api_orders_v0_getOrderItems_sandbox_TEST_CASE_200.json",
        ),
    ] {
        let v = amazon_base(order, items);
        amazon::map_order(&v["order"], list(&v["items"])).unwrap();
    }
}
