//! Authentication: passwords (argon2id), access tokens (JWT), rotating refresh tokens,
//! API keys with scopes, invitations, and login rate limits. [`service`] holds the flows;
//! the other files are the pieces they are made of.

pub mod attempts;
pub mod http;
pub mod password;
pub mod service;
pub mod tokens;
