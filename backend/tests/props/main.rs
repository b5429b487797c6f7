//! Property tests of every parser that reads input from outside: platform payloads, carrier
//! events, inbound mail, uploaded reports, rule conditions, templates, rate cards, money and
//! the addresses of requests and outbound calls. Each property says what must hold for any
//! input, not only for the examples the unit tests pick.
//!
//! `PROPS_SCALE` multiplies each property's cases (CI runs `PROPS_SCALE=20`), `PROPTEST_CASES`
//! sets one number for all; failures are kept under `proptest-regressions/` and replayed first
//! on the next run.

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod channels;
mod csv;
mod mail;
mod money;
mod network;
mod ratecard;
mod rules;
mod schema;
mod strategies;
mod templates;
mod tracking;

use proptest::test_runner::Config;

/// `cases` cases, times `PROPS_SCALE` (CI runs a longer pass), unless `PROPTEST_CASES` says
/// exactly how many (a `cases` field set here would override the variable); and a bounded
/// shrink so that a failure is reported quickly.
pub fn config(cases: u32) -> Config {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let cases =
        env("PROPTEST_CASES").unwrap_or(cases.saturating_mul(env("PROPS_SCALE").unwrap_or(1)));
    Config {
        cases,
        max_shrink_iters: 200,
        ..Config::default()
    }
}

/// A platform's own payload from `tests/fixtures`, parsed.
pub fn fixture(path: &str) -> serde_json::Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}
