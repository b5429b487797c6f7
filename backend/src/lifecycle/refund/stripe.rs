//! Stripe's refunds API (`/v1/refunds`): a refund of a payment intent or a charge, sent with
//! the refund intent's key as Stripe's `Idempotency-Key` (Stripe answers a repeated key with
//! the first answer, so a retry never refunds twice), in the currency's minor units as Stripe
//! counts them, with the order and return in its metadata. Request bodies are form-encoded;
//! answers and errors are JSON.

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::infra::outbound::Answer;
use crate::infra::outbound::api::{ApiError, Client, json_of};

pub const DEFAULT_API: &str = "https://api.stripe.com";

/// Currencies Stripe counts in whole units (no minor unit).
const ZERO_DECIMAL: [&str; 15] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF",
    "XOF", "XPF",
];
/// Zero-decimal currencies Stripe still counts in hundredths, whole units only.
const HUNDREDTHS_OF_WHOLE: [&str; 2] = ["ISK", "UGX"];
/// Currencies Stripe counts in thousandths, the last digit 0.
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// Decimals of a currency in Stripe's API amounts, which are not always ISO 4217's: Stripe
/// keeps ISK and UGX at two decimals, and treats MGA as having none.
pub fn decimals(code: &str) -> u32 {
    let code = code.to_ascii_uppercase();
    if ZERO_DECIMAL.contains(&code.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// A tenant's Stripe account: the API and its secret key (in memory only).
#[derive(Clone)]
pub struct Account {
    pub base: String,
    pub secret_key: String,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// One refund to ask Stripe for.
#[derive(Clone, Debug)]
pub struct RefundAsk<'a> {
    /// Orderflow's refund-intent key, sent as `Idempotency-Key`.
    pub key: &'a str,
    /// `pi_…` or `ch_…`: what the shopper paid with.
    pub payment: &'a str,
    pub amount: Decimal,
    pub currency: &'a str,
    pub order: &'a str,
    pub return_id: Option<&'a str>,
}

/// Where a Stripe refund stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    /// Stripe is still working on it (`pending`, or `requires_action` from the shopper).
    Pending,
    /// Not refunded, with Stripe's reason.
    Failed(String),
}

/// A refund as Stripe answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StripeRefund {
    pub id: String,
    pub status: Status,
    /// In minor units, as Stripe counts them.
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeError {
    /// Down, slow or limiting us: the same key may be sent again later.
    #[error("{0}")]
    Unavailable(String),
    /// Stripe refused, in its words (an amount above what is left, a bad key…).
    #[error("{0}")]
    Refused(String),
}

impl From<ApiError> for StripeError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Transient(m) => Self::Unavailable(m),
            ApiError::Permanent(m) => Self::Refused(m),
        }
    }
}

/// `amount` in the minor units Stripe counts `currency` in; refused when it has a fraction
/// Stripe cannot take.
pub fn minor_units(amount: Decimal, currency: &str) -> Result<i64, String> {
    let code = currency.to_ascii_uppercase();
    let scale = decimals(&code);
    // Whole ISK and UGX only; the thousandths of three-decimal currencies end in 0.
    let step = match scale {
        2 if HUNDREDTHS_OF_WHOLE.contains(&code.as_str()) => 100,
        3 => 10,
        _ => 1,
    };
    let minor = amount * Decimal::from(10_i64.pow(scale));
    if minor.fract() != Decimal::ZERO {
        return Err(format!(
            "{amount} {code} has more decimals than Stripe takes for {code}"
        ));
    }
    let minor = i64::try_from(minor).map_err(|_| format!("{amount} {code} is too large"))?;
    if minor % step != 0 {
        return Err(format!(
            "Stripe takes {code} amounts in multiples of {}",
            Decimal::from(step) / Decimal::from(10_i64.pow(scale))
        ));
    }
    Ok(minor)
}

/// The form body of `POST /v1/refunds`.
pub fn refund_form(ask: &RefundAsk<'_>) -> Result<Vec<(String, String)>, String> {
    let target = if ask.payment.starts_with("pi_") {
        "payment_intent"
    } else if ask.payment.starts_with("ch_") || ask.payment.starts_with("py_") {
        "charge"
    } else {
        return Err(format!(
            "{:?} is not a Stripe payment intent (pi_…) or charge (ch_…)",
            ask.payment
        ));
    };
    let mut form = vec![
        (target.to_owned(), ask.payment.to_owned()),
        (
            "amount".to_owned(),
            minor_units(ask.amount, ask.currency)?.to_string(),
        ),
        ("reason".to_owned(), "requested_by_customer".to_owned()),
        ("metadata[order_id]".to_owned(), ask.order.to_owned()),
        ("metadata[orderflow_refund]".to_owned(), ask.key.to_owned()),
    ];
    if let Some(r) = ask.return_id {
        form.push(("metadata[return_id]".to_owned(), r.to_owned()));
    }
    Ok(form)
}

/// A refund object (`"object": "refund"`).
pub fn read_refund(body: &Value) -> Result<StripeRefund, StripeError> {
    let id = body["id"]
        .as_str()
        .filter(|id| id.starts_with("re_") || id.starts_with("pyr_"))
        .ok_or_else(|| StripeError::Refused("Stripe's answer is not a refund".into()))?;
    let status = match body["status"].as_str() {
        Some("succeeded") => Status::Succeeded,
        Some("pending" | "requires_action") => Status::Pending,
        Some("failed") => Status::Failed(failure(body["failure_reason"].as_str())),
        Some("canceled") => Status::Failed("the refund was canceled".into()),
        other => Status::Failed(format!("Stripe answered status {other:?}")),
    };
    Ok(StripeRefund {
        id: id.to_owned(),
        status,
        amount: body["amount"].as_i64().unwrap_or_default(),
        currency: body["currency"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_uppercase(),
    })
}

/// Stripe's `failure_reason` codes in words.
fn failure(code: Option<&str>) -> String {
    match code {
        Some("lost_or_stolen_card") => "the card was reported lost or stolen".into(),
        Some("expired_or_canceled_card") => "the card has expired or was cancelled".into(),
        Some("charge_for_pending_refund_disputed") => {
            "the shopper disputed the charge while the refund was pending".into()
        }
        Some("insufficient_funds") => "the Stripe balance cannot cover the refund".into(),
        Some("declined") => "the card's bank declined the refund".into(),
        Some("merchant_request") => "the refund was cancelled at the merchant's request".into(),
        Some(other) => format!("Stripe could not refund ({other})"),
        None => "Stripe could not refund".into(),
    }
}

/// `{"error": {"type", "code", "message", "param"}}` in words.
pub fn read_error(status: u16, body: &Value) -> String {
    let e = &body["error"];
    let message = e["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("Stripe answered HTTP {status}"));
    match (e["code"].as_str(), e["param"].as_str()) {
        (Some(code), Some(param)) => format!("Stripe {code} ({param}): {message}"),
        (Some(code), None) => format!("Stripe {code}: {message}"),
        _ => format!("Stripe: {message}"),
    }
}

fn answer_json(res: &Answer) -> Result<Value, StripeError> {
    if res.status.is_success() {
        return Ok(json_of("Stripe", res)?);
    }
    let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
    Err(StripeError::Refused(read_error(res.status.as_u16(), &body)))
}

/// A tenant's Stripe account, spoken to through the outbound client.
pub struct Stripe<'a> {
    pub client: &'a Client,
    pub account: &'a Account,
}

impl Stripe<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(
                method,
                &format!("{}/v1/{path}", self.account.base.trim_end_matches('/')),
            )
            .bearer_auth(&self.account.secret_key)
    }

    /// Asks for the refund, once: the job tries again later with the same
    /// `Idempotency-Key`, and Stripe makes one refund however often it is asked.
    pub async fn refund(&self, ask: &RefundAsk<'_>) -> Result<StripeRefund, StripeError> {
        let form = refund_form(ask).map_err(StripeError::Refused)?;
        let request = self
            .request(Method::POST, "refunds")
            .header("Idempotency-Key", ask.key)
            .form(&form);
        let res = self
            .client
            .once("Stripe refund", request)
            .await
            .map_err(|(e, _)| StripeError::from(e))?;
        read_refund(&answer_json(&res)?)
    }

    /// Whether the key works and may read refunds (the connection test): one refund listed.
    pub async fn check(&self) -> Result<(), StripeError> {
        let build = || self.request(Method::GET, "refunds?limit=1");
        let res = self.client.exchange("Stripe", &build).await?;
        let list = answer_json(&res)?;
        if list["object"] != "list" {
            return Err(StripeError::Refused(
                "the API answered, but not as Stripe does".into(),
            ));
        }
        Ok(())
    }

    /// The refund as Stripe has it now (when its webhook is late).
    pub async fn refund_status(&self, id: &str) -> Result<StripeRefund, StripeError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StripeError::Refused(format!(
                "{id:?} is not a Stripe refund id"
            )));
        }
        let path = format!("refunds/{id}");
        let build = || self.request(Method::GET, &path);
        let res = self.client.exchange("Stripe refund", &build).await?;
        read_refund(&answer_json(&res)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/stripe/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_are_in_the_minor_units_stripe_counts() {
        assert_eq!(minor_units(d("41.94"), "usd"), Ok(4194));
        assert_eq!(minor_units(d("1200"), "JPY"), Ok(1200));
        assert!(minor_units(d("1200.5"), "JPY").is_err());
        assert_eq!(minor_units(d("5.120"), "KWD"), Ok(5120));
        assert!(minor_units(d("5.125"), "KWD").is_err());
        assert_eq!(minor_units(d("1000"), "ISK"), Ok(100_000));
        assert!(minor_units(d("1000.50"), "ISK").is_err());
        assert!(minor_units(d("0.001"), "EUR").is_err());
    }

    #[test]
    fn the_refund_form_names_the_payment_and_carries_the_order() {
        let ask = RefundAsk {
            key: "refund:abc",
            payment: "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            amount: d("12.50"),
            currency: "EUR",
            order: "#1001",
            return_id: Some("ret_1"),
        };
        let form = refund_form(&ask).unwrap();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("payment_intent"), Some("pi_3MtwBwLkdIwHu7ix28a3tqPa"));
        assert_eq!(get("amount"), Some("1250"));
        assert_eq!(get("metadata[order_id]"), Some("#1001"));
        assert_eq!(get("metadata[return_id]"), Some("ret_1"));
        let charge = RefundAsk {
            payment: "ch_xxxxxxxxxxxxx",
            ..ask.clone()
        };
        assert_eq!(refund_form(&charge).unwrap()[0].0, "charge");
        let neither = RefundAsk {
            payment: "rf_123",
            ..ask
        };
        assert!(refund_form(&neither).is_err());
    }

    #[test]
    fn stripes_refund_object_is_read() {
        let recorded = fixture("api/refund_create_POST_200.json");
        let r = read_refund(&recorded["response"]["body"]).unwrap();
        assert_eq!(r.id, "re_1Pgc72B7WZ01zgkWqPvrRrPE");
        assert_eq!(r.status, Status::Succeeded);
        assert_eq!((r.amount, r.currency.as_str()), (100, "USD"));
        let mut failed = recorded["response"]["body"].clone();
        failed["status"] = "failed".into();
        failed["failure_reason"] = "expired_or_canceled_card".into();
        assert_eq!(
            read_refund(&failed).unwrap().status,
            Status::Failed("the card has expired or was cancelled".into())
        );
        assert!(read_refund(&serde_json::json!({ "id": "ch_1" })).is_err());
        assert_eq!(
            read_error(502, &Value::Null),
            "Stripe: Stripe answered HTTP 502"
        );
    }
}
