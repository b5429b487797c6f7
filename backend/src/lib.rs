//! Orderflow: multi-tenant order management.
//!
//! A map of the crate, outermost first:
//! - [`cli`] and [`config`]: the `orderflow` command and its environment.
//! - [`app`]: registers the job kinds and event subscribers, runs the HTTP server and workers.
//! - [`state`]: the shared [`state::AppState`] (connections, keys, clients).
//! - [`http`]: actix-web routes — `/graphql`, `/graphql/ws`, `/healthz`, `/readyz`, `/metrics`, `/`.
//! - [`schema`]: the GraphQL schema, assembled from every area's objects.
//! - [`graphql`]: the kit they are built with: request context, guards, Relay helpers,
//!   error codes, data loaders.
//! - [`auth`]: passwords (argon2id), access and refresh tokens, API keys, login rate limits.
//! - [`tenancy`]: tenants, users, roles and permissions, and [`tenancy::TenantTx`], the only way
//!   to reach tenant-owned tables.
//! - [`catalog`]: products, variants, warehouses, suppliers.
//! - [`lifecycle`]: the order's stages, one module each (inventory so far).
//! - [`domain`]: validated value types shared by every stage (ids, email, …).
//! - [`jobs`]: background work run by `serve` and `worker`.
//! - [`infra`]: database, Redis, mail, event bus, telemetry, metrics.
//! - [`error`]: one error type, one code table.

pub mod app;
pub mod auth;
pub mod automation;
pub mod bulk;
pub mod catalog;
pub mod channels;
pub mod cli;
pub mod config;
pub mod customers;
pub mod demo;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod infra;
pub mod jobs;
pub mod lifecycle;
pub mod order;
pub mod planning;
pub mod reporting;
pub mod schema;
pub mod state;
pub mod tenancy;
pub mod webhooks;
