//! Stage 3, fraud screening: a risk score 0–100 from what is known about an order, with every
//! reason that contributed and how much. Pure.
//!
//! The model is additive and explainable: each signal that fires adds its documented points
//! (trust signals subtract), the sum is clamped to 0–100, and the reasons list exactly the
//! points that make up the score. The weights below are the defaults for a tenant without
//! history; staff decisions and chargebacks are kept as labels (with these features) so a
//! tenant's own model can be fitted later.
//!
//! | code | fires when | points |
//! |---|---|---|
//! | EMAIL_VELOCITY | ≥ 3 orders from the email in 1 h, or ≥ 5 in 24 h | 15 / 10 |
//! | IP_VELOCITY | ≥ 3 orders from the IP in 1 h, or ≥ 6 in 24 h | 12 / 8 |
//! | DEVICE_VELOCITY | ≥ 4 orders from the device in 24 h | 10 |
//! | CARD_VELOCITY | ≥ 3 orders on the card in 24 h | 12 |
//! | SHARED_DEVICE | the device placed orders for ≥ 3 emails in 30 days | 15 |
//! | SHARED_CARD | the card paid for ≥ 3 emails in 30 days | 15 |
//! | LINKED_TO_FRAUD | email, IP, device or card seen on an order labelled fraud | 35 |
//! | PRIOR_CHARGEBACK | the customer has had a chargeback | 30 |
//! | NEW_ACCOUNT | first order from an account younger than a day | 5 |
//! | FIRST_ORDER_HIGH_VALUE | first order, over 3× the store's usual order | 15 |
//! | EXPRESS_ON_FIRST_ORDER | first order with express shipping | 6 |
//! | ABOVE_CUSTOMER_USUAL | over 5× the customer's own average | 10 |
//! | ABOVE_STORE_USUAL | over 5× the store's usual order (not a first order) | 8 |
//! | COUNTRY_MISMATCH | billing and shipping countries differ | 12 |
//! | DISTANT_ADDRESSES | same country, different region | 4 |
//! | IP_COUNTRY_MISMATCH | the IP's country is not the shipping country | 12 |
//! | HIGH_RISK_REGION | billing or shipping in a tenant-listed country | 15 |
//! | FREIGHT_FORWARDER | the shipping address is a parcel forwarder | 15 |
//! | DISPOSABLE_EMAIL | a throwaway email domain | 15 |
//! | NAME_EMAIL_MISMATCH | the email shares nothing with the name and looks generated | 5 |
//! | FAILED_PAYMENTS | ≥ 3 declined attempts before success | 12 |
//! | UNUSUAL_QUANTITY | ≥ 10 units of one SKU (≥ 25: 14) | 8 / 14 |
//! | AVS_MISMATCH | address verification failed | 8 |
//! | CVV_FAILED | the card code did not match | 12 |
//! | GATEWAY_RISK | the gateway rated it elevated / high | 10 / 20 |
//! | ESTABLISHED_CUSTOMER | ≥ 3 earlier orders over ≥ 90 days, no chargeback | −15 |

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FraudReasonCode {
    EmailVelocity,
    IpVelocity,
    DeviceVelocity,
    CardVelocity,
    SharedDevice,
    SharedCard,
    LinkedToFraud,
    PriorChargeback,
    NewAccount,
    FirstOrderHighValue,
    ExpressOnFirstOrder,
    AboveCustomerUsual,
    AboveStoreUsual,
    CountryMismatch,
    DistantAddresses,
    IpCountryMismatch,
    HighRiskRegion,
    FreightForwarder,
    DisposableEmail,
    NameEmailMismatch,
    FailedPayments,
    UnusualQuantity,
    AvsMismatch,
    CvvFailed,
    GatewayRisk,
    EstablishedCustomer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
pub enum FraudLevel {
    Low,
    Medium,
    High,
}

impl FraudLevel {
    pub fn of(score: i32) -> Self {
        match score {
            s if s >= 70 => Self::High,
            s if s >= 30 => Self::Medium,
            _ => Self::Low,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Low, Self::Medium, Self::High]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// How far apart billing and shipping addresses are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressDistance {
    #[default]
    Unknown,
    Same,
    SameRegion,
    SameCountry,
    OtherCountry,
}

/// Everything the score is computed from. Stored with the decision and with each label.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FraudFacts {
    pub email_orders_1h: u32,
    pub email_orders_24h: u32,
    pub ip_orders_1h: u32,
    pub ip_orders_24h: u32,
    pub device_orders_24h: u32,
    pub card_orders_24h: u32,
    /// Other emails that used this device / card in 30 days.
    pub device_emails: u32,
    pub card_emails: u32,
    /// Orders sharing an email, IP, device or card with this one that were labelled fraud.
    pub linked_fraud_orders: u32,
    pub chargebacks: i64,
    /// Orders the customer placed before this one.
    pub previous_orders: i64,
    /// Since the customer was first seen; None for a guest.
    pub account_age_days: Option<i64>,
    /// In minor units of the order currency.
    pub total_units: i64,
    pub customer_average_units: Option<i64>,
    pub store_average_units: Option<i64>,
    pub express_shipping: bool,
    pub billing_country: Option<String>,
    pub shipping_country: Option<String>,
    pub ip_country: Option<String>,
    pub address_distance: AddressDistance,
    pub high_risk_country: Option<String>,
    pub freight_forwarder: bool,
    pub disposable_email: bool,
    pub name_email_mismatch: bool,
    pub failed_payment_attempts: u32,
    pub max_units_of_one_sku: i64,
    pub avs_mismatch: bool,
    pub cvv_failed: bool,
    pub gateway_risk: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FraudReason {
    pub code: FraudReasonCode,
    pub message: String,
    pub contribution: i32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FraudAssessment {
    pub score: i32,
    pub level: FraudLevel,
    pub reasons: Vec<FraudReason>,
    pub facts: FraudFacts,
}

pub fn score(f: &FraudFacts) -> FraudAssessment {
    use FraudReasonCode as R;
    let mut reasons = Vec::new();
    let mut add = |code, contribution, message: String| {
        reasons.push(FraudReason {
            code,
            message,
            contribution,
        })
    };
    if f.email_orders_1h >= 3 {
        add(
            R::EmailVelocity,
            15,
            format!(
                "{} other orders from this email address in the last hour",
                f.email_orders_1h
            ),
        );
    } else if f.email_orders_24h >= 5 {
        add(
            R::EmailVelocity,
            10,
            format!(
                "{} other orders from this email address in the last 24 hours",
                f.email_orders_24h
            ),
        );
    }
    if f.ip_orders_1h >= 3 {
        add(
            R::IpVelocity,
            12,
            format!(
                "{} other orders from this IP address in the last hour",
                f.ip_orders_1h
            ),
        );
    } else if f.ip_orders_24h >= 6 {
        add(
            R::IpVelocity,
            8,
            format!(
                "{} other orders from this IP address in the last 24 hours",
                f.ip_orders_24h
            ),
        );
    }
    if f.device_orders_24h >= 4 {
        add(
            R::DeviceVelocity,
            10,
            format!(
                "{} other orders from this device in the last 24 hours",
                f.device_orders_24h
            ),
        );
    }
    if f.card_orders_24h >= 3 {
        add(
            R::CardVelocity,
            12,
            format!(
                "This card paid for {} other orders in the last 24 hours",
                f.card_orders_24h
            ),
        );
    }
    if f.device_emails >= 3 {
        add(
            R::SharedDevice,
            15,
            format!(
                "This device placed orders under {} other email addresses in 30 days",
                f.device_emails
            ),
        );
    }
    if f.card_emails >= 3 {
        add(
            R::SharedCard,
            15,
            format!(
                "This card paid for orders under {} other email addresses in 30 days",
                f.card_emails
            ),
        );
    }
    if f.linked_fraud_orders > 0 {
        add(
            R::LinkedToFraud,
            35,
            format!(
                "Shares an email, IP address, device or card with {} order(s) confirmed as fraud",
                f.linked_fraud_orders
            ),
        );
    }
    if f.chargebacks > 0 {
        add(
            R::PriorChargeback,
            30,
            format!("This customer has had {} chargeback(s)", f.chargebacks),
        );
    }
    let first_order = f.previous_orders == 0;
    if first_order && f.account_age_days.is_none_or(|d| d < 1) {
        add(
            R::NewAccount,
            5,
            "First order from a customer first seen today".into(),
        );
    }
    let store_multiple = f
        .store_average_units
        .filter(|a| *a > 0)
        .map(|a| f.total_units as f64 / a as f64);
    if first_order && store_multiple.is_some_and(|m| m > 3.0) {
        add(
            R::FirstOrderHighValue,
            15,
            format!(
                "A first order worth {:.1}× the store's usual order",
                store_multiple.unwrap_or_default()
            ),
        );
    } else if !first_order && store_multiple.is_some_and(|m| m > 5.0) {
        add(
            R::AboveStoreUsual,
            8,
            format!(
                "Worth {:.1}× the store's usual order",
                store_multiple.unwrap_or_default()
            ),
        );
    }
    if first_order && f.express_shipping {
        add(
            R::ExpressOnFirstOrder,
            6,
            "Express shipping on a first order".into(),
        );
    }
    if !first_order
        && let Some(avg) = f.customer_average_units.filter(|a| *a > 0)
        && f.total_units as f64 / avg as f64 > 5.0
    {
        add(
            R::AboveCustomerUsual,
            10,
            format!(
                "Worth {:.1}× this customer's average order",
                f.total_units as f64 / avg as f64
            ),
        );
    }
    match f.address_distance {
        AddressDistance::OtherCountry => add(
            R::CountryMismatch,
            12,
            format!(
                "Billed in {} but shipped to {}",
                f.billing_country.as_deref().unwrap_or("?"),
                f.shipping_country.as_deref().unwrap_or("?")
            ),
        ),
        AddressDistance::SameCountry => add(
            R::DistantAddresses,
            4,
            "Billing and shipping addresses are in different regions".into(),
        ),
        _ => {}
    }
    if let (Some(ip), Some(ship)) = (&f.ip_country, &f.shipping_country)
        && ip != ship
    {
        add(
            R::IpCountryMismatch,
            12,
            format!("Ordered from an IP address in {ip}, shipping to {ship}"),
        );
    }
    if let Some(country) = &f.high_risk_country {
        add(
            R::HighRiskRegion,
            15,
            format!("{country} is on your list of high-risk regions"),
        );
    }
    if f.freight_forwarder {
        add(
            R::FreightForwarder,
            15,
            "The shipping address belongs to a parcel forwarding service".into(),
        );
    }
    if f.disposable_email {
        add(
            R::DisposableEmail,
            15,
            "The email address is from a disposable-mail provider".into(),
        );
    }
    if f.name_email_mismatch {
        add(
            R::NameEmailMismatch,
            5,
            "The email address has nothing in common with the customer's name".into(),
        );
    }
    if f.failed_payment_attempts >= 3 {
        add(
            R::FailedPayments,
            12,
            format!(
                "{} declined payment attempts before this one",
                f.failed_payment_attempts
            ),
        );
    }
    if f.max_units_of_one_sku >= 25 {
        add(
            R::UnusualQuantity,
            14,
            format!(
                "{} units of one item in a single order",
                f.max_units_of_one_sku
            ),
        );
    } else if f.max_units_of_one_sku >= 10 {
        add(
            R::UnusualQuantity,
            8,
            format!(
                "{} units of one item in a single order",
                f.max_units_of_one_sku
            ),
        );
    }
    if f.avs_mismatch {
        add(
            R::AvsMismatch,
            8,
            "The card's billing address did not verify".into(),
        );
    }
    if f.cvv_failed {
        add(
            R::CvvFailed,
            12,
            "The card security code did not match".into(),
        );
    }
    match f.gateway_risk.as_deref() {
        Some("high" | "highest") => add(
            R::GatewayRisk,
            20,
            "The payment gateway rated this payment high risk".into(),
        ),
        Some("elevated" | "medium") => add(
            R::GatewayRisk,
            10,
            "The payment gateway rated this payment elevated risk".into(),
        ),
        _ => {}
    }
    if f.previous_orders >= 3 && f.chargebacks == 0 && f.account_age_days.is_some_and(|d| d >= 90) {
        add(
            R::EstablishedCustomer,
            -15,
            format!(
                "A customer for {} days with {} earlier orders and no chargebacks",
                f.account_age_days.unwrap_or_default(),
                f.previous_orders
            ),
        );
    }
    let raw: i32 = reasons.iter().map(|r| r.contribution).sum();
    let score = raw.clamp(0, 100);
    FraudAssessment {
        score,
        level: FraudLevel::of(score),
        reasons,
        facts: f.clone(),
    }
}

/// What the tenant's thresholds make of a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FraudOutcome {
    Approve,
    Review,
    Reject,
}

pub fn outcome(score: i32, review_at: i32, reject_at: i32) -> FraudOutcome {
    if score >= reject_at {
        FraudOutcome::Reject
    } else if score >= review_at {
        FraudOutcome::Review
    } else {
        FraudOutcome::Approve
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(a: &FraudAssessment) -> Vec<FraudReasonCode> {
        a.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn a_returning_customer_with_a_usual_order_scores_zero() {
        let a = score(&FraudFacts {
            previous_orders: 5,
            account_age_days: Some(400),
            total_units: 5000,
            customer_average_units: Some(4500),
            store_average_units: Some(6000),
            address_distance: AddressDistance::Same,
            ..Default::default()
        });
        assert_eq!(a.score, 0);
        assert_eq!(a.level, FraudLevel::Low);
        assert_eq!(codes(&a), vec![FraudReasonCode::EstablishedCustomer]);
    }

    #[test]
    fn contributions_add_up_to_the_score() {
        let a = score(&FraudFacts {
            total_units: 90_000,
            store_average_units: Some(6_000),
            express_shipping: true,
            billing_country: Some("US".into()),
            shipping_country: Some("NG".into()),
            address_distance: AddressDistance::OtherCountry,
            disposable_email: true,
            ..Default::default()
        });
        assert_eq!(
            codes(&a),
            vec![
                FraudReasonCode::NewAccount,
                FraudReasonCode::FirstOrderHighValue,
                FraudReasonCode::ExpressOnFirstOrder,
                FraudReasonCode::CountryMismatch,
                FraudReasonCode::DisposableEmail,
            ]
        );
        assert_eq!(a.score, 5 + 15 + 6 + 12 + 15);
        assert_eq!(a.level, FraudLevel::Medium);
        assert_eq!(
            a.reasons[1].message,
            "A first order worth 15.0× the store's usual order"
        );
        assert_eq!(a.reasons[3].message, "Billed in US but shipped to NG");
    }

    #[test]
    fn the_score_is_capped_at_100() {
        let a = score(&FraudFacts {
            linked_fraud_orders: 2,
            chargebacks: 1,
            device_emails: 5,
            card_emails: 4,
            email_orders_1h: 6,
            gateway_risk: Some("high".into()),
            ..Default::default()
        });
        assert!(a.reasons.iter().map(|r| r.contribution).sum::<i32>() > 100);
        assert_eq!(a.score, 100);
        assert_eq!(a.level, FraudLevel::High);
    }

    #[test]
    fn velocity_thresholds() {
        let a = score(&FraudFacts {
            previous_orders: 1,
            account_age_days: Some(10),
            email_orders_1h: 2,
            email_orders_24h: 5,
            ip_orders_1h: 3,
            card_orders_24h: 2,
            ..Default::default()
        });
        assert_eq!(
            codes(&a),
            vec![FraudReasonCode::EmailVelocity, FraudReasonCode::IpVelocity]
        );
        assert_eq!(a.score, 10 + 12);
    }

    #[test]
    fn thresholds_decide_the_outcome() {
        assert_eq!(outcome(59, 60, 90), FraudOutcome::Approve);
        assert_eq!(outcome(60, 60, 90), FraudOutcome::Review);
        assert_eq!(outcome(95, 60, 90), FraudOutcome::Reject);
    }

    #[test]
    fn every_reason_code_has_a_sentence() {
        // Facts that fire every rule at least once (across two assessments).
        let all = FraudFacts {
            email_orders_1h: 3,
            ip_orders_1h: 3,
            device_orders_24h: 4,
            card_orders_24h: 3,
            device_emails: 3,
            card_emails: 3,
            linked_fraud_orders: 1,
            chargebacks: 1,
            total_units: 100_000,
            store_average_units: Some(1000),
            express_shipping: true,
            billing_country: Some("US".into()),
            shipping_country: Some("FR".into()),
            ip_country: Some("RU".into()),
            address_distance: AddressDistance::OtherCountry,
            high_risk_country: Some("RU".into()),
            freight_forwarder: true,
            disposable_email: true,
            name_email_mismatch: true,
            failed_payment_attempts: 3,
            max_units_of_one_sku: 30,
            avs_mismatch: true,
            cvv_failed: true,
            gateway_risk: Some("high".into()),
            ..Default::default()
        };
        let returning = FraudFacts {
            previous_orders: 4,
            account_age_days: Some(200),
            total_units: 100_000,
            customer_average_units: Some(1000),
            store_average_units: Some(1000),
            address_distance: AddressDistance::SameCountry,
            ..Default::default()
        };
        let mut seen: Vec<FraudReasonCode> = codes(&score(&all));
        seen.extend(codes(&score(&returning)));
        for r in score(&all).reasons.iter().chain(&score(&returning).reasons) {
            assert!(r.message.len() > 10, "{:?}", r.code);
        }
        use FraudReasonCode as R;
        for code in [
            R::EmailVelocity,
            R::IpVelocity,
            R::DeviceVelocity,
            R::CardVelocity,
            R::SharedDevice,
            R::SharedCard,
            R::LinkedToFraud,
            R::PriorChargeback,
            R::NewAccount,
            R::FirstOrderHighValue,
            R::ExpressOnFirstOrder,
            R::AboveCustomerUsual,
            R::AboveStoreUsual,
            R::CountryMismatch,
            R::DistantAddresses,
            R::IpCountryMismatch,
            R::HighRiskRegion,
            R::FreightForwarder,
            R::DisposableEmail,
            R::NameEmailMismatch,
            R::FailedPayments,
            R::UnusualQuantity,
            R::AvsMismatch,
            R::CvvFailed,
            R::GatewayRisk,
            R::EstablishedCustomer,
        ] {
            assert!(seen.contains(&code), "{code:?} never fires");
        }
    }
}
