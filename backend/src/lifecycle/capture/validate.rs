//! Checks on capture. An order that fails one is still captured: each problem becomes an issue
//! on the order for staff (or a later stage) to resolve, never a lost order or a crash.

use rust_decimal::Decimal;

use super::postal;
use crate::domain::Address;
use crate::domain::money::Currency;
use crate::order::canonical::{CanonicalOrder, Line};
use crate::order::issues::{Issue, IssueCode};

/// Rounds to the currency's minor unit, half away from zero, as platforms do.
fn round(amount: Decimal, currency: &str) -> Decimal {
    let dp = Currency::parse(currency).map(|c| c.exponent()).unwrap_or(2);
    let mut rounded =
        amount.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(dp);
    rounded
}

/// The money checks: lines add up to the subtotal, and
/// subtotal − discounts + tax (unless included in prices) + shipping = total.
pub fn check_totals(order: &CanonicalOrder) -> Vec<Issue> {
    let c = &order.currency;
    let t = &order.totals;
    let mut issues = Vec::new();
    let lines: Decimal = order
        .lines
        .iter()
        .map(|l| l.unit_price * Decimal::from(l.quantity))
        .sum();
    if round(lines, c) != round(t.subtotal, c) {
        issues.push(Issue::new(
            IssueCode::TotalsMismatch,
            Some("totals.subtotal".to_owned()),
            format!(
                "lines add up to {} but the subtotal is {}",
                round(lines, c),
                t.subtotal
            ),
        ));
    }
    let tax = if order.taxes_included {
        Decimal::ZERO
    } else {
        t.tax
    };
    let expected = t.subtotal - t.discounts + tax + t.shipping;
    if round(expected, c) != round(t.total, c) {
        issues.push(Issue::new(
            IssueCode::TotalsMismatch,
            Some("totals.total".to_owned()),
            format!(
                "subtotal {} − discounts {} + tax {} + shipping {} = {}, but the total is {}",
                t.subtotal,
                t.discounts,
                tax,
                t.shipping,
                round(expected, c),
                t.total
            ),
        ));
    }
    issues
}

/// Line checks; `in_catalog` says whether a SKU is known.
pub fn check_lines(lines: &[Line], in_catalog: impl Fn(&str) -> bool) -> Vec<Issue> {
    let mut issues = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.quantity <= 0 {
            issues.push(Issue::new(
                IssueCode::BadQuantity,
                Some(format!("lines.{i}.quantity")),
                format!("{} has quantity {}", line.title, line.quantity),
            ));
        }
        match line.sku.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(sku) if !in_catalog(sku) => issues.push(Issue::new(
                IssueCode::UnknownSku,
                Some(format!("lines.{i}.sku")),
                format!("SKU {sku} ({}) is not in the catalog", line.title),
            )),
            Some(_) => {}
            None if line.requires_shipping => issues.push(Issue::new(
                IssueCode::MissingSku,
                Some(format!("lines.{i}.sku")),
                format!("{} has no SKU, so it cannot be allocated", line.title),
            )),
            None => {}
        }
    }
    issues
}

/// Whether the shipping address is good enough for a label.
pub fn check_shipping_address(order: &CanonicalOrder) -> Vec<Issue> {
    let ships = order.lines.iter().any(|l| l.requires_shipping);
    match &order.shipping_address {
        None if ships => vec![Issue::new(
            IssueCode::NoShippingAddress,
            Some("shippingAddress".to_owned()),
            "the order has goods to ship but no shipping address",
        )],
        None => Vec::new(),
        Some(address) => check_address("shippingAddress", address),
    }
}

pub fn check_address(prefix: &str, a: &Address) -> Vec<Issue> {
    let mut issues = Vec::new();
    let blank = |s: &str| s.trim().is_empty();
    for (part, missing) in [
        ("line1", blank(&a.line1)),
        ("city", blank(&a.city) && !postal::city_optional(&a.country)),
        ("country", blank(&a.country)),
        (
            "region",
            postal::region_required(&a.country) && a.region.as_deref().is_none_or(blank),
        ),
        (
            "postalCode",
            postal::uses_postal_codes(&a.country) && a.postal_code.as_deref().is_none_or(blank),
        ),
    ] {
        if missing {
            issues.push(Issue::new(
                IssueCode::AddressIncomplete,
                Some(format!("{prefix}.{part}")),
                format!("the address has no {part}"),
            ));
        }
    }
    if let Some(code) = a.postal_code.as_deref().filter(|c| !blank(c))
        && !postal::valid(&a.country, code)
    {
        issues.push(Issue::new(
            IssueCode::PostalCodeInvalid,
            Some(format!("{prefix}.postalCode")),
            format!("{code} is not a valid postal code for {}", a.country),
        ));
    }
    issues
}

/// What makes two orders "the same purchase": email, total, and the SKUs with quantities.
pub fn fingerprint(
    email: Option<&str>,
    total_units: i64,
    lines: &[(Option<String>, i64)],
) -> String {
    let mut items: Vec<String> = lines
        .iter()
        .map(|(sku, qty)| format!("{}x{qty}", sku.as_deref().unwrap_or("?")))
        .collect();
    items.sort();
    format!(
        "{}|{total_units}|{}",
        email.unwrap_or_default().trim().to_lowercase(),
        items.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::canonical::Totals;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn order(lines: &[(&str, i64)], totals: [&str; 5]) -> CanonicalOrder {
        CanonicalOrder {
            currency: "USD".into(),
            lines: lines
                .iter()
                .map(|(price, qty)| Line {
                    unit_price: d(price),
                    quantity: *qty,
                    requires_shipping: true,
                    sku: Some("S".into()),
                    title: "Thing".into(),
                    ..Default::default()
                })
                .collect(),
            totals: Totals {
                subtotal: d(totals[0]),
                discounts: d(totals[1]),
                tax: d(totals[2]),
                shipping: d(totals[3]),
                total: d(totals[4]),
            },
            ..Default::default()
        }
    }

    #[test]
    fn totals_that_add_up_pass_and_others_name_the_difference() {
        let ok = order(
            &[("89.99", 1), ("10.005", 2)],
            ["110.00", "20.00", "6.60", "10.00", "106.60"],
        );
        assert_eq!(check_totals(&ok), vec![]);
        let off = order(&[("10", 1)], ["10", "0", "1", "5", "15.99"]);
        let issues = check_totals(&off);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field.as_deref(), Some("totals.total"));
        assert!(issues[0].message.contains("16.00"), "{}", issues[0].message);
        let mut included = order(&[("12", 1)], ["12", "0", "2", "0", "12"]);
        included.taxes_included = true;
        assert_eq!(
            check_totals(&included),
            vec![],
            "VAT inside prices is not added again"
        );
        let lines_off = order(&[("10", 2)], ["25", "0", "0", "0", "25"]);
        assert_eq!(
            check_totals(&lines_off)[0].field.as_deref(),
            Some("totals.subtotal")
        );
    }

    #[test]
    fn line_checks_flag_unknown_and_missing_skus_and_bad_quantities() {
        let mut lines = order(&[("1", 1), ("1", 0), ("1", 1)], ["0"; 5]).lines;
        lines[0].sku = Some("KNOWN".into());
        lines[1].sku = Some("NEW-1".into());
        lines[2].sku = None;
        lines.push(Line {
            sku: None,
            requires_shipping: false,
            quantity: 1,
            ..Default::default()
        });
        let issues = check_lines(&lines, |s| s == "KNOWN");
        let codes: Vec<_> = issues
            .iter()
            .map(|i| (i.code, i.field.clone().unwrap()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (IssueCode::BadQuantity, "lines.1.quantity".into()),
                (IssueCode::UnknownSku, "lines.1.sku".into()),
                (IssueCode::MissingSku, "lines.2.sku".into()),
            ]
        );
    }

    #[test]
    fn addresses_need_what_a_label_needs_in_their_country() {
        let good = Address {
            line1: "1 Main St".into(),
            city: "Louisville".into(),
            region: Some("KY".into()),
            postal_code: Some("40003".into()),
            country: "US".into(),
            ..Default::default()
        };
        assert_eq!(check_address("shippingAddress", &good), vec![]);
        let mut bad = good.clone();
        bad.postal_code = Some("4000".into());
        bad.region = None;
        let fields: Vec<_> = check_address("shippingAddress", &bad)
            .into_iter()
            .map(|i| (i.code, i.field.unwrap()))
            .collect();
        assert_eq!(
            fields,
            vec![
                (
                    IssueCode::AddressIncomplete,
                    "shippingAddress.region".into()
                ),
                (
                    IssueCode::PostalCodeInvalid,
                    "shippingAddress.postalCode".into()
                ),
            ]
        );
        let hk = Address {
            line1: "1 Queen's Rd".into(),
            city: "Central".into(),
            country: "HK".into(),
            ..Default::default()
        };
        assert_eq!(
            check_address("a", &hk),
            vec![],
            "Hong Kong has no postal codes"
        );
    }

    #[test]
    fn fingerprints_ignore_line_order_and_email_case() {
        let a = fingerprint(
            Some("Jo@X.com"),
            100,
            &[(Some("A".into()), 1), (Some("B".into()), 2)],
        );
        let b = fingerprint(
            Some("jo@x.com "),
            100,
            &[(Some("B".into()), 2), (Some("A".into()), 1)],
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint(
                Some("jo@x.com"),
                100,
                &[(Some("A".into()), 2), (Some("B".into()), 2)]
            )
        );
    }
}
