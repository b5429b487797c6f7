//! End-to-end harness for Orderflow: runs the real `orderflow` binary as a child process,
//! against a fresh SQLite file or PostgreSQL database, Redis when `REDIS_URL` is set, and a
//! real SMTP receiver, and talks to it over HTTP the way a client would.
//!
//! - [`browser`]: headless Chromium over WebDriver, with screenshots kept as artifacts.
//! - [`orderflow`]: finds the binary, prepares an [`orderflow::Environment`] (data directory,
//!   database, Redis prefix) and starts, probes and stops [`orderflow::Orderflow`] processes.
//! - [`smtp`]: a small SMTP server that keeps every message it is given.
//! - [`redis`]: a Redis server of the test's own, to stop and start again.
//! - [`shop`]: a shop set up over the API, and Shopify's own signed order webhook.
//! - [`mail`]: reads those messages: MIME parts, transfer encodings, the invitation link.
//! - [`tracking`]: carrier scans in Orderflow's signed webhook format.
//! - [`remote_api`]: a remote API (carrier, channel, processor) on loopback, answering with
//!   the platform's recorded payloads and keeping what it was sent.
//!
//! The journeys themselves are in `tests/`.

pub mod browser;
pub mod fixtures;
pub mod mail;
pub mod orderflow;
pub mod redis;
pub mod remote_api;
pub mod shop;
pub mod smtp;
pub mod tracking;
