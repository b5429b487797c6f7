//! Who moves the money back. Every call carries the refund intent's key, so a provider that
//! sees the same key twice (a retry after a crash) makes one refund.

use sha2::{Digest, Sha256};

/// One refund to make.
pub struct RefundCall<'a> {
    /// The refund intent's idempotency key.
    pub key: &'a str,
    pub amount_units: i64,
    pub currency: &'a str,
    /// The processor's id of the payment (charge or payment intent), when known.
    pub payment_reference: Option<&'a str>,
    pub reason: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderOutcome {
    Succeeded {
        reference: String,
        /// What the shopper or staff should know (the money was recorded, not moved…).
        note: Option<String>,
    },
    Failed {
        reason: String,
    },
}

pub trait PaymentProvider {
    fn name(&self) -> &'static str;

    fn refund(
        &self,
        call: RefundCall<'_>,
    ) -> impl Future<Output = Result<ProviderOutcome, String>> + Send;
}

/// The built-in provider: the money goes back through the channel or processor outside
/// Orderflow, and the refund is recorded here (booked in the ledger by the service).
pub struct BuiltIn;

impl PaymentProvider for BuiltIn {
    fn name(&self) -> &'static str {
        "builtin"
    }

    async fn refund(&self, call: RefundCall<'_>) -> Result<ProviderOutcome, String> {
        // The same key gives the same reference, as a processor's idempotency would.
        let digest = Sha256::digest(call.key.as_bytes());
        Ok(ProviderOutcome::Succeeded {
            reference: format!("rf_{}", &hex::encode(digest)[..24]),
            note: None,
        })
    }
}
