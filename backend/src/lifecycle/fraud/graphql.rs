//! Fraud screening over GraphQL: `Order.fraud`, the score with its reasons (a part of `Order`,
//! listed in `schema::parts`).

use std::sync::Arc;

use async_graphql::{Object, SimpleObject};

use super::model::{FraudAssessment as Assessment, FraudLevel, FraudReasonCode};
use crate::order::graphql::types::OrderFields;

/// One reason behind a fraud score, with the points it added (negative: it lowered it).
#[derive(Clone, Debug, SimpleObject)]
pub struct FraudReason {
    pub code: FraudReasonCode,
    /// What it means, in a sentence a merchant understands.
    pub message: String,
    pub contribution: i32,
}

/// The fraud screening of an order: the score is the sum of the contributions, 0–100.
#[derive(Clone, Debug, SimpleObject)]
pub struct FraudAssessment {
    pub score: i32,
    pub level: FraudLevel,
    pub reasons: Vec<FraudReason>,
}

impl From<Assessment> for FraudAssessment {
    fn from(a: Assessment) -> Self {
        Self {
            score: a.score,
            level: a.level,
            reasons: a
                .reasons
                .into_iter()
                .map(|r| FraudReason {
                    code: r.code,
                    message: r.message,
                    contribution: r.contribution,
                })
                .collect(),
        }
    }
}

/// Fraud screening's field on an order.
pub struct FraudPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for FraudPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl FraudPart {
    /// Fraud screening's score with its reasons; null until the order has been screened.
    async fn fraud(&self) -> Option<FraudAssessment> {
        let stored = self.0.fraud_record.clone()?;
        serde_json::from_value::<Assessment>(stored)
            .ok()
            .map(FraudAssessment::from)
    }
}
