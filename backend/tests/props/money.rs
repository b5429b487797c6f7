//! Amounts, currencies and the GraphQL scalars and ids that carry them arrive as text from
//! integrators and merchants: read exactly, or refused, never a panic.

use async_graphql::{Name, Number, ScalarType, Value as GqlValue};
use orderflow::domain::money::{
    Currency, Money, amount_from_units, parse_amount, parse_price, to_units,
};
use orderflow::graphql::relay;
use orderflow::graphql::scalars::Amount;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::config;
use crate::strategies::edge_text;

/// Texts that look like amounts, and some that do not.
fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ ]?-?[0-9]{0,30}(\\.[0-9]{0,30})?[ ]?",
        "[+-]?[0-9_]{1,12}(\\.[0-9]{1,6})?",
        edge_text(),
    ]
}

fn any_decimal() -> impl Strategy<Value = Decimal> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0u32..=28,
    )
        .prop_map(|(lo, mid, hi, negative, scale)| {
            Decimal::from_parts(lo, mid, hi, negative, scale)
        })
}

fn currency_code() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "USD", "jpy", "KWD", "CLF", "", "US", "U$D", "ÜSD", " usd "
        ])
        .prop_map(str::to_owned),
        "[A-Za-z]{3}",
        edge_text(),
    ]
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn any_text_is_an_amount_that_reads_back_or_is_refused(raw in amount_text()) {
        if let Ok(d) = parse_amount(&raw) {
            prop_assert_eq!(parse_amount(&d.to_string()), Ok(d));
        }
    }

    #[test]
    fn a_price_is_stored_and_shown_exactly(raw in amount_text(), currency in currency_code()) {
        if let Ok(price) = parse_price(&raw) {
            prop_assert!(!price.is_sign_negative() || price.is_zero());
            let units = to_units(price);
            prop_assert!(units.is_ok(), "{price} was accepted but cannot be stored");
            let shown = amount_from_units(units.unwrap(), &currency);
            prop_assert_eq!(shown, price, "equal in value, whatever the scale");
        }
    }

    #[test]
    fn units_of_any_decimal_are_exact_or_refused(d in any_decimal()) {
        if let Ok(units) = to_units(d) {
            prop_assert_eq!(Decimal::new(units, 4), d);
        }
    }

    #[test]
    fn any_units_show_in_any_currency(units in any::<i64>(), currency in currency_code()) {
        let amount = amount_from_units(units, &currency);
        prop_assert_eq!(to_units(amount), Ok(units));
        if let Ok(c) = Currency::parse(&currency) {
            prop_assert!(amount.scale() >= c.exponent().min(4));
            let shown = Money::from_units(units, c).display_amount();
            prop_assert!(shown.parse::<Decimal>().is_ok(), "{shown}");
        }
    }

    #[test]
    fn a_currency_is_three_capital_letters_or_refused(raw in currency_code()) {
        if let Ok(c) = Currency::parse(&raw) {
            prop_assert!(c.code().len() == 3 && c.code().bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert!([0, 2, 3, 4].contains(&c.exponent()));
            prop_assert_eq!(Currency::parse(c.code()), Ok(c));
        }
    }

    #[test]
    fn the_decimal_scalar_takes_any_string_or_number_as_written(
        s in any::<String>(),
        n in any::<i64>(),
        f in any::<f64>(),
        other in 0..4,
    ) {
        prop_assert_eq!(<Amount as ScalarType>::parse(GqlValue::String(s.clone())).ok(), Some(Amount(s.clone())));
        prop_assert_eq!(<Amount as ScalarType>::parse(GqlValue::Number(Number::from(n))).ok(), Some(Amount(n.to_string())));
        if let Some(f) = Number::from_f64(f) {
            prop_assert!(<Amount as ScalarType>::parse(GqlValue::Number(f)).is_ok());
        }
        let wrong = match other {
            0 => GqlValue::Null,
            1 => GqlValue::Boolean(true),
            2 => GqlValue::List(vec![GqlValue::String(s.clone())]),
            _ => GqlValue::Enum(Name::new("USD")),
        };
        prop_assert!(<Amount as ScalarType>::parse(wrong).is_err());
        prop_assert_eq!(Amount(s.clone()).to_value(), GqlValue::String(s));
    }

    #[test]
    fn global_ids_and_cursors_read_back_and_nothing_else_panics(
        bytes in any::<[u8; 16]>(),
        kind in "[A-Za-z]{1,20}",
        junk in prop_oneof![any::<String>(), "[A-Za-z0-9_-]{0,60}"],
        first in any::<Option<i32>>(),
    ) {
        let id = uuid::Uuid::from_bytes(bytes);
        let global = relay::global_id(&kind, id);
        prop_assert_eq!(relay::decode_id(&global.0, &kind, "id").ok(), Some(id));
        prop_assert!(relay::decode_id(&global.0, &format!("{kind}x"), "id").is_err(), "an id of another type");
        prop_assert_eq!(relay::decode_cursor(Some(relay::encode_cursor(id).as_str())).ok(), Some(Some(id)));
        let _ = relay::decode_id(&junk, &kind, "id");
        let _ = relay::decode_cursor(Some(junk.as_str()));
        let size = relay::page_size(first);
        prop_assert_eq!(size.is_ok(), first.is_none_or(|n| (0..=100).contains(&n)));
    }
}
