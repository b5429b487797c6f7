//! Stage 3, fraud screening: an explainable risk score with reason codes, decided against the
//! tenant's thresholds; staff decisions and chargebacks are kept as labels.

pub mod features;
pub mod model;
pub mod signals;

pub use model::{FraudAssessment, FraudLevel, FraudOutcome};
