//! Payment verification over GraphQL: its verdict on `Order.payment` (a part of
//! `OrderPayment`, listed in `schema::parts`).

use std::sync::Arc;

use async_graphql::{Object, SimpleObject};

use super::decide::{PaymentCheck, PaymentDecision, PaymentVerdict, Severity};
use crate::order::graphql::types::OrderPaymentFields;

/// One thing payment verification found.
#[derive(Clone, Debug, SimpleObject)]
pub struct PaymentFinding {
    pub code: PaymentCheck,
    pub severity: Severity,
    pub message: String,
}

/// Payment verification's fields on an order's payment.
pub struct PaymentVerdictPart(Arc<OrderPaymentFields>);

impl From<Arc<OrderPaymentFields>> for PaymentVerdictPart {
    fn from(payment: Arc<OrderPaymentFields>) -> Self {
        Self(payment)
    }
}

impl PaymentVerdictPart {
    fn decision(&self) -> Option<PaymentDecision> {
        let stored = self.0.decision.clone()?;
        serde_json::from_value(stored).ok()
    }
}

#[Object]
impl PaymentVerdictPart {
    /// Payment verification's verdict; null until the order has been checked.
    async fn verdict(&self) -> Option<PaymentVerdict> {
        self.decision().map(|d| d.verdict)
    }

    /// The findings behind the verdict, in words.
    async fn reasons(&self) -> Vec<String> {
        self.decision().map(|d| d.reasons()).unwrap_or_default()
    }

    /// Everything verification found, with its code and weight.
    async fn findings(&self) -> Vec<PaymentFinding> {
        self.decision()
            .map(|d| {
                d.findings
                    .into_iter()
                    .map(|f| PaymentFinding {
                        code: f.code,
                        severity: f.severity,
                        message: f.message,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}
