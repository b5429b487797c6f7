//! Plumbing the stages stand on: database, Redis, mail, events, telemetry, metrics.

pub mod client_ip;
pub mod csv;
pub mod db;
pub mod events;
pub mod faults;
pub mod gate;
pub mod jwt;
pub mod link_token;
pub mod mailer;
pub mod metrics;
pub mod outbound;
pub mod pdf;
pub mod ratelimit;
pub mod redis;
pub mod seal;
pub mod signature;
pub mod telemetry;
pub mod templates;
