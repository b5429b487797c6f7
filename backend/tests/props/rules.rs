//! Rule conditions are typed by tenants: any text is a checked condition or an error at a
//! column inside it, nesting is refused before it can exhaust the stack, and a checked
//! condition evaluates against any facts.

use orderflow::automation::expr::{self, Facts, Schema, Type, Value};
use orderflow::automation::facts;
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::config;

/// Pieces of the condition language, to be put together in any order.
const TOKENS: &[&str] = &[
    "(",
    ")",
    " not ",
    " and ",
    " or ",
    " in ",
    " contains ",
    "[",
    "]",
    ",",
    "\"",
    "\\",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "true",
    "1.5",
    "#",
];

/// The fields of the order trigger, by type.
fn fields(t: Type) -> Vec<&'static str> {
    facts::schema()
        .into_iter()
        .filter(|(_, ty)| *ty == t)
        .map(|(name, _)| name)
        .collect()
}

fn text_literal() -> impl Strategy<Value = String> {
    "[ -~]{0,12}".prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
}

fn number_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,12}(\\.[0-9]{1,6})?",
        Just("79228162514264337593543950335".to_owned())
    ]
}

/// A well-typed condition over the order trigger's fields, parenthesised as it nests.
fn condition() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        prop::sample::select(fields(Type::Number)).prop_map(str::to_owned),
        number_literal()
    ];
    let text = prop_oneof![
        prop::sample::select(fields(Type::Text)).prop_map(str::to_owned),
        text_literal()
    ];
    let op = prop::sample::select(vec!["=", "==", "!=", "<", "<=", ">", ">="]);
    let atom = prop_oneof![
        (number.clone(), op, number).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (
            text.clone(),
            prop::sample::select(vec!["=", "!="]),
            text.clone()
        )
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (
            text.clone(),
            any::<bool>(),
            prop::collection::vec(text_literal(), 0..4)
        )
            .prop_map(|(a, not, items)| format!(
                "{a} {}in [{}]",
                if not { "not " } else { "" },
                items.join(", ")
            )),
        (prop::sample::select(fields(Type::TextList)), text)
            .prop_map(|(list, item)| format!("{list} contains {item}")),
        prop::sample::select(fields(Type::Bool)).prop_map(str::to_owned),
        prop::sample::select(vec!["true", "FALSE"]).prop_map(str::to_owned),
    ];
    atom.prop_recursive(5, 32, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec!["and", "or", "AND"]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|c| format!("not ({c})")),
            inner.prop_map(|c| format!("({c})")),
        ]
    })
}

/// Facts of every field of the schema, each known (of its type) or missing.
fn all_facts(known: bool) -> impl Strategy<Value = Facts> {
    let schema = facts::schema();
    let names: Vec<(&'static str, Type)> = schema.into_iter().collect();
    let values: Vec<BoxedStrategy<Value>> = names.iter().map(|(_, t)| value(*t, known)).collect();
    let joined = values.into_iter().fold(Just(Vec::new()).boxed(), |acc, v| {
        (acc, v)
            .prop_map(|(mut all, v)| {
                all.push(v);
                all
            })
            .boxed()
    });
    joined.prop_map(move |vals| names.iter().map(|(n, _)| *n).zip(vals).collect())
}

fn value(t: Type, known: bool) -> BoxedStrategy<Value> {
    let of_type = match t {
        Type::Number => (any::<i64>(), 0u32..=10)
            .prop_map(|(m, s)| Value::Number(Decimal::new(m, s)))
            .boxed(),
        Type::Text => "[ -~]{0,12}".prop_map(Value::Text).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::TextList => prop::collection::vec("[ -~]{0,8}", 0..4)
            .prop_map(Value::TextList)
            .boxed(),
    };
    if known {
        of_type
    } else {
        prop_oneof![3 => of_type, 1 => Just(Value::Missing)].boxed()
    }
}

fn schema() -> Schema {
    facts::schema()
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_text_is_a_condition_or_an_error_at_a_column_inside_it(src in prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![
            prop::sample::select(TOKENS).prop_map(str::to_owned),
            prop::sample::select(facts::schema().into_keys().collect::<Vec<_>>()).prop_map(str::to_owned),
            "[a-z_.]{1,15}",
            "[0-9.]{1,30}",
        ], 0..40).prop_map(|parts| parts.concat()),
    ]) {
        match expr::parse(&src, &schema()) {
            Ok(e) => {
                let _ = expr::eval(&e, &Facts::new());
            }
            Err(e) => {
                prop_assert!((1..=src.chars().count() + 1).contains(&e.column), "column {} of {:?}", e.column, src);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn nesting_past_the_bound_is_refused_not_overflowed(
        depth in 33usize..20_000,
        opener in prop::sample::select(vec!["(", "not ", "not (", "( not "]),
        closed in any::<bool>(),
    ) {
        let mut src = opener.repeat(depth);
        src.push_str("order.test");
        if closed {
            src.push_str(&")".repeat(depth));
        }
        let e = expr::parse(&src, &schema()).unwrap_err();
        prop_assert!((1..=src.chars().count() + 1).contains(&e.column));
    }

    #[test]
    fn well_typed_conditions_parse(src in condition()) {
        prop_assume!(src.chars().count() <= 2000);
        let parsed = expr::parse(&src, &schema());
        prop_assert!(parsed.is_ok(), "{src}: {:?}", parsed.err());
    }

    #[test]
    fn a_condition_and_its_negation_never_both_hold(src in condition(), facts in all_facts(false)) {
        prop_assume!(src.chars().count() <= 1990);
        let yes = expr::eval(&expr::parse(&src, &schema()).unwrap(), &facts);
        let no = expr::eval(&expr::parse(&format!("not ({src})"), &schema()).unwrap(), &facts);
        prop_assert!(!(yes && no), "unknown is neither true nor false, never both");
    }

    #[test]
    fn with_every_fact_known_exactly_one_of_a_condition_and_its_negation_holds(
        src in condition(),
        facts in all_facts(true),
    ) {
        prop_assume!(src.chars().count() <= 1990);
        let yes = expr::eval(&expr::parse(&src, &schema()).unwrap(), &facts);
        let no = expr::eval(&expr::parse(&format!("not ({src})"), &schema()).unwrap(), &facts);
        prop_assert!(yes != no, "{src}");
    }
}
