//! API tests: the real server over HTTP on a fresh database (SQLite, or PostgreSQL and Redis
//! when DATABASE_URL and REDIS_URL are set).

// Test support code panics on failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod auth;
mod automation;
mod bigcommerce;
mod bulk;
mod carrier_apis;
mod catalog;
mod channel_push;
mod channel_stock;
mod connectors;
mod demo;
mod engine;
mod errors;
mod fulfillment;
mod helpers;
mod isolation;
mod jobs;
mod members;
mod migrations;
mod mock;
mod notify;
mod ops;
mod orders;
mod outbound;
mod polling;
mod reconcile;
mod refund_providers;
mod refunds;
mod reporting;
mod returns;
mod roles;
mod row_level_security;
mod schema;
mod stock;
mod subscriptions;
mod ui;
mod webhooks;
