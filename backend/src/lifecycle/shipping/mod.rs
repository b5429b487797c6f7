//! Shipping: carriers and their rate cards, rate shopping, labels and tracking numbers.

pub mod actions;
pub mod carrier;
pub mod context;
pub mod graphql;
pub mod http;
pub mod label;
pub mod loaders;
pub mod ratecard;
pub mod repo;
pub mod service;
pub mod shop;
pub mod tracking_number;
