//! Inputs shared by the areas: arbitrary JSON whose objects use the field names the parsers
//! read, the awkward values platforms and impostors send, and real payloads with fields
//! replaced or removed.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Number, Value, json};

/// Field names the mappers, tracking parsers and mail readers look up, so that arbitrary
/// objects reach past the first `... is missing`.
const KEYS: &str = "id name currency currency_code total total_price price quantity line_items \
     shipping_lines tax_lines discount_codes amount divisor created_at updated_at \
     date_created date_created_gmt status status_id financial_status sku title subtotal \
     total_tax total_inc_tax Amount AmazonOrderId OrderTotal CurrencyCode PurchaseDate \
     QuantityOrdered ItemPrice receipt_id grandtotal transactions create_timestamp result \
     tracking_code tracking_details datetime data tracking_number tracking_status \
     tracking_history status_date msg checkpoints tag checkpoint_time trackingNumber \
     occurredAt from FromFull Email to TextBody HtmlBody text html RawEmail raw Headers Name \
     Value message-headers object fee net source payment_intent balance_transactions";

/// Numbers at the edges: beyond i64 and u64, beyond any amount the mappers accept, tiny,
/// negative, and the caps themselves.
fn edge_number() -> impl Strategy<Value = Value> {
    let fixed = vec![
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(9e18),
        json!(1e30),
        json!(-1e30),
        json!(f64::MAX),
        json!(f64::MIN_POSITIVE),
        json!(1e-30),
        json!(1_000_000_000_000i64),
        json!(-1_000_000_000_000i64),
        json!(999_999_999_999i64),
        json!(1_000_000_000_001i64),
        json!(0),
        json!(-1),
        json!(-0.0),
        json!(0.1),
        json!(1.0000000000000002),
    ];
    prop_oneof![
        prop::sample::select(fixed),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| {
            Number::from_f64(f).map(Value::Number)
        }),
    ]
}

/// Texts that are numbers, dates and entities in disguise, or not quite.
const EDGE_TEXT: &[&str] = &[
    "",
    " ",
    "99999999999999999999",
    "1e30",
    "-1e30",
    "1E28",
    "1e29",
    "1e-28",
    "1e-29",
    "1e+5",
    "1e4294967296",
    "-1",
    "-0",
    "0.00001",
    "12.345678901234567890123456789",
    "79228162514264337593543950335",
    "79228162514264337593543950336",
    "-79228162514264337593543950335",
    "999999999999.99",
    "1000000000000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "NaN",
    "inf",
    "0x10",
    "1_000",
    "١٢٣",
    "12,50",
    "$12.50",
    "true",
    "null",
    "2021-13-45T99:99:99Z",
    "9999-12-31T23:59:59Z",
    "+275760-09-13T00:00:00Z",
    "-000001-01-01T00:00:00Z",
    "Tue, 05 Mar 2019 21:40:11 +0000",
    "2017-03-22T16:28:02",
    "2017-03-22",
    "\u{0}",
    "\u{feff}",
    "a\u{0}b",
    "😀",
    "e\u{301}",
    "\u{202e}RTL",
    "&amp;&#x110000;&#99999999999;&#-1;&#xD800;",
];

pub fn edge_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(EDGE_TEXT).prop_map(str::to_owned),
        2 => any::<String>(),
        1 => "[0-9]{1,40}(\\.[0-9]{0,30})?",
        1 => "-?[0-9]{0,3}[eE][-+]?[0-9]{1,12}",
    ]
}

/// A JSON value `depth` levels deep: arrays or objects inside one another.
fn nested(depth: usize, objects: bool) -> Value {
    (0..depth).fold(json!(1), |inner, _| {
        if objects {
            json!({ "id": inner })
        } else {
            json!([inner])
        }
    })
}

pub fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        edge_number(),
        edge_text().prop_map(Value::String),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS.split_whitespace().collect::<Vec<_>>()).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Arbitrary JSON a few levels deep.
pub fn arb_json() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..8)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
            ]
        })
        .boxed()
}

/// What a field is replaced with: an awkward leaf, deep nesting, or a small tree.
fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => leaf(),
        1 => (1usize..80, any::<bool>()).prop_map(|(depth, objects)| nested(depth, objects)),
        2 => arb_json(),
    ]
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    At(usize),
}

/// Every path below the root of `v`.
fn paths(v: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        let children: Vec<(Seg, &Value)> = match v {
            Value::Object(map) => map.iter().map(|(k, c)| (Seg::Key(k.clone()), c)).collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, c)| (Seg::At(i), c))
                .collect(),
            _ => Vec::new(),
        };
        for (seg, child) in children {
            prefix.push(seg);
            out.push(prefix.clone());
            walk(child, prefix, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// Replaces (`Some`) or removes (`None`) the value at `path`.
fn edit(v: &mut Value, path: &[Seg], new: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for seg in parents {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(map)) => match map.get_mut(k) {
                Some(next) => next,
                None => return,
            },
            (Seg::At(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(next) => next,
                None => return,
            },
            _ => return,
        };
    }
    match (last, cur, new) {
        (Seg::Key(k), Value::Object(map), Some(new)) => {
            map.insert(k.clone(), new);
        }
        (Seg::Key(k), Value::Object(map), None) => {
            map.remove(k);
        }
        (Seg::At(i), Value::Array(items), Some(new)) if *i < items.len() => items[*i] = new,
        (Seg::At(i), Value::Array(items), None) if *i < items.len() => {
            items.remove(*i);
        }
        _ => {}
    }
}

/// `base` with one to `edits` fields (leaves or whole subtrees) replaced by awkward values or
/// removed.
pub fn mutated(base: Value, edits: usize) -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (any::<Index>(), prop::option::weighted(0.85, replacement())),
        1..=edits,
    )
    .prop_map(move |changes| {
        let mut v = base.clone();
        for (at, new) in changes {
            let all = paths(&v);
            if all.is_empty() {
                break;
            }
            edit(&mut v, &all[at.index(all.len())], new);
        }
        v
    })
}

/// The array at `v`, or nothing when a mutation made it something else.
pub fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}
