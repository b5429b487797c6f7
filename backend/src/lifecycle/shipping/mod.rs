//! Shipping: carriers and their rate cards, rate shopping, labels and tracking numbers.

pub mod label;
pub mod ratecard;
pub mod shop;
pub mod tracking_number;
