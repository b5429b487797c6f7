//! Plumbing the stages stand on: database, Redis, mail, events, telemetry, metrics.

pub mod db;
pub mod events;
pub mod mailer;
pub mod metrics;
pub mod pdf;
pub mod redis;
pub mod seal;
pub mod telemetry;
