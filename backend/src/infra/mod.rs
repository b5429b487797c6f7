//! Plumbing the stages stand on: database, Redis, mail, events, telemetry, metrics.

pub mod db;
pub mod events;
pub mod link_token;
pub mod mailer;
pub mod metrics;
pub mod outbound;
pub mod pdf;
pub mod redis;
pub mod seal;
pub mod telemetry;
