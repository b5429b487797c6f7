//! Files a merchant uploads (Stripe reports, as CSV or JSON) are read or refused with the line
//! at fault, never a panic; files we write for a spreadsheet never carry a formula.

use orderflow::bulk::import::{RowError, write_error_report};
use orderflow::infra::csv::{csv_bytes, defuse};
use orderflow::lifecycle::reconcile::stripe::{self, Report, Unreadable};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::strategies::{edge_text, mutated};
use crate::{config, fixture};

/// What a spreadsheet runs as a formula when a cell starts with it.
const RISKY: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Amounts as reports write them, and as they should not: beyond i64 units, four places
/// and more, separators, exponents, words.
fn amount_text() -> impl Strategy<Value = String> {
    const AMOUNTS: &[&str] = &[
        "0",
        "1.00",
        "-5.00",
        "1,234.50",
        "922337203685477.5807",
        "-922337203685477.5808",
        "900000000000000",
        "-900000000000000",
        "922337203685478",
        "0.00001",
        "1e5",
        "abc",
        "",
        "79228162514264337593543950335",
        "-0",
    ];
    prop_oneof![
        3 => prop::sample::select(AMOUNTS).prop_map(str::to_owned),
        2 => "-?[0-9]{1,16}(\\.[0-9]{1,5})?",
        1 => edge_text(),
    ]
}

fn cell(column: &str) -> BoxedStrategy<String> {
    match column {
        "gross" | "fee" | "net" | "amount" => amount_text().boxed(),
        "currency" => prop_oneof![
            prop::sample::select(vec!["usd", "EUR", "jpy", "", "us", "ÜSD", "u$d"])
                .prop_map(str::to_owned),
            edge_text(),
        ]
        .boxed(),
        "created_utc" | "created (utc)" => prop_oneof![
            "20[0-9]{2}-[01][0-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?",
            "-?[0-9]{1,20}",
            edge_text(),
        ]
        .boxed(),
        _ => prop_oneof!["[ -~]{0,12}", edge_text()].boxed(),
    }
}

/// A report: the required columns, some optional ones (with or without `net`), in any order,
/// and rows of cells fit for each column, some short, some long.
fn report_csv() -> impl Strategy<Value = (String, bool)> {
    const OPTIONAL: &[&str] = &[
        "fee",
        "net",
        "source_id",
        "created_utc",
        "description",
        "automatic_payout_id",
        "charge_id",
        "payment_intent_id",
        "payment_metadata[order_id]",
    ];
    let required = [
        "balance_transaction_id",
        "reporting_category",
        "gross",
        "currency",
    ];
    (
        prop::sample::subsequence(OPTIONAL, 0..=OPTIONAL.len()),
        any::<u64>(),
    )
        .prop_flat_map(move |(optional, seed)| {
            let mut columns: Vec<&str> = required.iter().copied().chain(optional).collect();
            let n = columns.len();
            columns.rotate_left((seed % n as u64) as usize);
            let row: Vec<BoxedStrategy<String>> = columns.iter().map(|c| cell(c)).collect();
            let rows = prop::collection::vec(
                (
                    row.into_iter().fold(Just(Vec::new()).boxed(), |acc, c| {
                        (acc, c)
                            .prop_map(|(mut v, c)| {
                                v.push(c);
                                v
                            })
                            .boxed()
                    }),
                    0..=n + 1,
                ),
                0..6,
            );
            let header = columns.iter().map(|c| c.to_string()).collect::<Vec<_>>();
            (Just(header), rows)
        })
        .prop_map(|(header, rows)| {
            let mut w = ::csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(Vec::new());
            w.write_record(&header).unwrap();
            for (cells, keep) in rows {
                w.write_record(&cells[..keep.min(cells.len())]).unwrap();
            }
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            (text, !header.iter().any(|h| h == "net"))
        })
}

fn check(result: Result<Report, Unreadable>, net_is_derived: bool) -> Result<(), TestCaseError> {
    match result {
        Err(e) => prop_assert!(!e.at.is_empty() && !e.message.is_empty(), "{e:?}"),
        Ok(report) => {
            for l in &report.lines {
                prop_assert!(!l.transaction_id.is_empty());
                prop_assert!(
                    l.currency.len() == 3 && l.currency.bytes().all(|b| b.is_ascii_uppercase())
                );
                if net_is_derived {
                    prop_assert_eq!(l.gross.checked_sub(l.fee), Some(l.net), "net = gross − fee");
                }
            }
        }
    }
    Ok(())
}

fn stripe_objects() -> Value {
    json!([
        fixture("stripe/openapi_fixtures3_balance_transaction.json"),
        fixture("stripe/djstripe_balance_transaction_txn_fake_ch_fakefakefakefakefake0001.json"),
        fixture("stripe/djstripe_charge_ch_fakefakefakefakefake0001.json"),
        fixture("stripe/djstripe_dispute_dp_fakefakefakefake01.json"),
        fixture("stripe/djstripe_payout_custom_bank_account.json"),
    ])
}

/// API objects with amounts at the edges of i64 units, as numbers or strings.
fn stripe_object() -> impl Strategy<Value = Value> {
    let amount = prop_oneof![
        amount_text().prop_map(Value::String),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 92_233_720_368_547_758])
            .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ]
    .boxed();
    (
        prop::sample::select(vec![
            "balance_transaction",
            "payout",
            "charge",
            "dispute",
            "customer",
            "",
        ]),
        amount.clone(),
        prop::option::of(amount.clone()),
        prop::option::of(amount),
        prop::sample::select(vec!["usd", "jpy", "kwd", "", "dollars"]),
        prop::sample::select(vec!["paid", "failed", "canceled"]),
    )
        .prop_map(|(object, amount, fee, net, currency, status)| {
            json!({ "id": "txn_1", "object": object, "amount": amount, "fee": fee, "net": net,
                    "currency": currency, "status": status, "payment_intent": "pi_1",
                    "balance_transactions": [{ "id": "txn_2", "object": "balance_transaction",
                                               "amount": amount, "currency": currency }] })
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_text_is_a_report_or_names_its_line(text in prop_oneof![any::<String>(), "[a-z_,\n\"0-9.-]{0,200}"]) {
        check(stripe::read_csv(&text), false)?;
        check(stripe::read_json(&text), false)?;
    }

    #[test]
    fn csv_reports_with_awkward_cells_read_or_name_the_line((text, net_is_derived) in report_csv()) {
        check(stripe::read_csv(&text), net_is_derived)?;
    }

    #[test]
    fn json_objects_with_awkward_amounts_read_or_name_the_object(objects in prop::collection::vec(stripe_object(), 1..4)) {
        let text = Value::Array(objects).to_string();
        if let Ok(report) = stripe::read_json(&text) {
            for l in report.lines.iter().filter(|l| l.category.starts_with("payout")) {
                prop_assert_eq!((l.gross, l.fee), (l.net, 0), "a payout moves its whole amount");
            }
        }
    }

    #[test]
    fn a_cell_is_defused_exactly_when_a_spreadsheet_would_run_it(cell in prop_oneof![
        any::<String>(),
        "[=+@\t\r-][ -~]{0,20}",
        "[+-]?[0-9_]{1,10}(\\.[0-9]{1,4})?",
    ]) {
        let out = defuse(cell.clone());
        let number = cell.parse::<Decimal>().is_ok();
        if cell.starts_with(RISKY) && !number {
            prop_assert_eq!(out, format!("'{cell}"));
        } else {
            prop_assert_eq!(&out, &cell);
            prop_assert!(!out.starts_with(RISKY) || out.parse::<Decimal>().is_ok());
        }
    }

    #[test]
    fn csv_bytes_read_back_as_the_defused_rows(
        width in 1usize..5,
        rows in prop::collection::vec(prop::collection::vec(any::<String>(), 1..5), 0..6),
        with_header in any::<bool>(),
    ) {
        let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        let names: Vec<&str> = header.iter().map(String::as_str).collect();
        let even = rows.iter().all(|r| r.len() == width);
        let written = csv_bytes(with_header.then_some(names.as_slice()), rows.clone());
        prop_assert_eq!(written.is_ok(), even || (!with_header && rows.windows(2).all(|w| w[0].len() == w[1].len())));
        let Ok(bytes) = written else { return Ok(()) };
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&bytes[..]);
        let read: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        let expected: Vec<Vec<String>> = with_header.then_some(header).into_iter()
            .chain(rows.into_iter().map(|r| r.into_iter().map(defuse).collect()))
            .collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn an_import_error_report_carries_no_formula(values in prop::collection::vec(any::<String>(), 1..4)) {
        // The importers write the cell they could not read at the start of the message.
        let errors: Vec<RowError> = values.iter().enumerate().map(|(i, v)| RowError {
            line: i + 2,
            column: "weight_grams".into(),
            message: format!("{v} is not a whole number"),
        }).collect();
        let dir = std::env::temp_dir().join(format!("orderflow-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = write_error_report(&dir.join("products.csv"), &errors).unwrap();
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).from_path(&path).unwrap();
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                prop_assert_eq!(defuse(cell.to_owned()), cell, "a spreadsheet would run it");
            }
        }
        std::fs::remove_file(path).unwrap();
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn stripe_objects_with_fields_replaced_read_or_name_the_object(v in mutated(stripe_objects(), 4)) {
        check(stripe::read_json(&v.to_string()), false)?;
    }
}

/// The mutations start from objects that read.
#[test]
fn the_stripe_fixtures_read_before_they_are_mutated() {
    let report = stripe::read_json(&stripe_objects().to_string()).unwrap();
    assert!(report.lines.len() >= 3 && !report.intents.is_empty());
}
