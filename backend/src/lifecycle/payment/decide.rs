//! Stage 2, payment verification: from the payment facts a channel or gateway reported, a
//! verdict (verified, review, failed) with every finding that led to it. Pure.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::order::canonical::{FinancialStatus, PaymentFacts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
pub enum PaymentVerdict {
    /// The money is captured, or authorized in full, and nothing looks wrong.
    Verified,
    /// Something needs a person's look before the order goes on.
    Review,
    /// The payment did not happen or was reversed.
    Failed,
}

impl PaymentVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Review => "review",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Verified, Self::Review, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentCheck {
    CapturedInFull,
    AuthorizedInFull,
    StillPending,
    PartiallyPaid,
    AmountMismatch,
    CurrencyMismatch,
    AvsMismatch,
    AvsPartialMatch,
    CvvFailed,
    GatewayElevatedRisk,
    RepeatedDeclines,
    PaymentFailed,
    PaymentReversed,
}

/// What a finding does to the verdict.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, async_graphql::Enum,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Review,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: PaymentCheck,
    pub severity: Severity,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentDecision {
    pub verdict: PaymentVerdict,
    pub findings: Vec<Finding>,
}

impl PaymentDecision {
    /// The findings that led to a review or failure, in words (all of them when verified).
    pub fn reasons(&self) -> Vec<String> {
        let worst = self.findings.iter().map(|f| f.severity).max();
        self.findings
            .iter()
            .filter(|f| Some(f.severity) == worst)
            .map(|f| f.message.clone())
            .collect()
    }
}

pub struct Facts<'a> {
    pub payment: &'a PaymentFacts,
    pub financial_status: FinancialStatus,
    pub total: Decimal,
    pub currency: &'a str,
}

/// Declines before success that suggest card testing rather than a typo.
const MANY_DECLINES: u32 = 3;

/// AVS codes (Visa/Mastercard/Amex letters as gateways pass them through).
fn avs(code: &str) -> Option<(PaymentCheck, Severity, &'static str)> {
    match code.trim().to_ascii_uppercase().as_str() {
        // Neither street nor postal code matched.
        "N" | "C" => Some((
            PaymentCheck::AvsMismatch,
            Severity::Review,
            "neither the street nor the postal code",
        )),
        // One of the two matched.
        "A" | "B" | "P" | "W" | "Z" | "L" | "O" => Some((
            PaymentCheck::AvsPartialMatch,
            Severity::Info,
            "only part of",
        )),
        _ => None,
    }
}

fn money(amount: Decimal, currency: &str) -> String {
    format!("{} {currency}", amount.normalize())
}

pub fn decide(f: &Facts<'_>) -> PaymentDecision {
    let p = f.payment;
    let mut findings = Vec::new();
    let mut add = |code, severity, message: String| {
        findings.push(Finding {
            code,
            severity,
            message,
        })
    };
    let received = p.amount_captured + p.amount_authorized;
    match f.financial_status {
        FinancialStatus::Failed => add(
            PaymentCheck::PaymentFailed,
            Severity::Fail,
            "The payment failed at the gateway".into(),
        ),
        FinancialStatus::Voided | FinancialStatus::Refunded => add(
            PaymentCheck::PaymentReversed,
            Severity::Fail,
            format!(
                "The payment was {} before the order was fulfilled",
                f.financial_status.as_str()
            ),
        ),
        FinancialStatus::Pending if received.is_zero() => add(
            PaymentCheck::StillPending,
            Severity::Review,
            "No payment has been captured or authorized yet".into(),
        ),
        _ => {}
    }
    let reversed = matches!(
        f.financial_status,
        FinancialStatus::Failed | FinancialStatus::Voided | FinancialStatus::Refunded
    );
    if !reversed && !received.is_zero() {
        if p.amount_captured == f.total {
            add(
                PaymentCheck::CapturedInFull,
                Severity::Info,
                format!("{} captured, the order total", money(f.total, f.currency)),
            );
        } else if p.amount_captured.is_zero() && p.amount_authorized >= f.total {
            add(
                PaymentCheck::AuthorizedInFull,
                Severity::Info,
                format!(
                    "{} authorized, to capture on shipment",
                    money(p.amount_authorized, f.currency)
                ),
            );
        } else if received < f.total {
            add(
                PaymentCheck::PartiallyPaid,
                Severity::Review,
                format!(
                    "Only {} of the {} total has been paid",
                    money(received, f.currency),
                    money(f.total, f.currency)
                ),
            );
        } else {
            add(
                PaymentCheck::AmountMismatch,
                Severity::Review,
                format!(
                    "{} was captured but the order total is {}",
                    money(received, f.currency),
                    money(f.total, f.currency)
                ),
            );
        }
    }
    if let Some(paid_in) = p.currency.as_deref()
        && !paid_in.eq_ignore_ascii_case(f.currency)
    {
        add(
            PaymentCheck::CurrencyMismatch,
            Severity::Review,
            format!(
                "Paid in {} but the order is in {}",
                paid_in.to_ascii_uppercase(),
                f.currency
            ),
        );
    }
    if let Some((code, severity, what)) = p.avs_result.as_deref().and_then(avs) {
        add(
            code,
            severity,
            format!("Address verification (AVS) matched {what} the billing address"),
        );
    }
    if p.cvv_result
        .as_deref()
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("N"))
    {
        add(
            PaymentCheck::CvvFailed,
            Severity::Review,
            "The card security code (CVV) did not match".into(),
        );
    }
    if let Some(risk) = p.gateway_risk.as_deref() {
        let risk = risk.trim().to_ascii_lowercase();
        if matches!(risk.as_str(), "elevated" | "high" | "highest" | "medium") {
            add(
                PaymentCheck::GatewayElevatedRisk,
                Severity::Review,
                format!("The payment gateway rated this payment's risk {risk}"),
            );
        }
    }
    if p.failed_attempts >= MANY_DECLINES {
        add(
            PaymentCheck::RepeatedDeclines,
            Severity::Review,
            format!(
                "{} declined payment attempts before this one succeeded",
                p.failed_attempts
            ),
        );
    }
    let verdict = match findings.iter().map(|x| x.severity).max() {
        Some(Severity::Fail) => PaymentVerdict::Failed,
        Some(Severity::Review) => PaymentVerdict::Review,
        _ => PaymentVerdict::Verified,
    };
    PaymentDecision { verdict, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn paid(amount: &str) -> PaymentFacts {
        PaymentFacts {
            amount_captured: dec(amount),
            avs_result: Some("Y".into()),
            cvv_result: Some("M".into()),
            ..Default::default()
        }
    }

    fn run(p: &PaymentFacts, status: FinancialStatus, total: &str) -> PaymentDecision {
        decide(&Facts {
            payment: p,
            financial_status: status,
            total: dec(total),
            currency: "USD",
        })
    }

    fn codes(d: &PaymentDecision) -> Vec<PaymentCheck> {
        d.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn captured_in_full_is_verified() {
        let d = run(&paid("59.90"), FinancialStatus::Paid, "59.90");
        assert_eq!(d.verdict, PaymentVerdict::Verified);
        assert_eq!(codes(&d), vec![PaymentCheck::CapturedInFull]);
        assert_eq!(d.reasons(), vec!["59.9 USD captured, the order total"]);
    }

    #[test]
    fn a_full_authorization_is_verified() {
        let p = PaymentFacts {
            amount_authorized: dec("20"),
            ..Default::default()
        };
        let d = run(&p, FinancialStatus::Authorized, "20.00");
        assert_eq!(d.verdict, PaymentVerdict::Verified);
        assert_eq!(codes(&d), vec![PaymentCheck::AuthorizedInFull]);
    }

    #[test]
    fn amounts_that_do_not_add_up_go_to_review() {
        let d = run(&paid("10"), FinancialStatus::PartiallyPaid, "25");
        assert_eq!(d.verdict, PaymentVerdict::Review);
        assert_eq!(codes(&d), vec![PaymentCheck::PartiallyPaid]);
        assert_eq!(
            d.reasons(),
            vec!["Only 10 USD of the 25 USD total has been paid"]
        );
        let d = run(&paid("30"), FinancialStatus::Paid, "25");
        assert_eq!(codes(&d), vec![PaymentCheck::AmountMismatch]);
        assert_eq!(d.verdict, PaymentVerdict::Review);
    }

    #[test]
    fn pending_payment_waits_for_review() {
        let d = run(&PaymentFacts::default(), FinancialStatus::Pending, "25");
        assert_eq!(d.verdict, PaymentVerdict::Review);
        assert_eq!(codes(&d), vec![PaymentCheck::StillPending]);
    }

    #[test]
    fn failed_or_reversed_payments_fail() {
        let d = run(&PaymentFacts::default(), FinancialStatus::Failed, "25");
        assert_eq!(d.verdict, PaymentVerdict::Failed);
        let d = run(&paid("25"), FinancialStatus::Voided, "25");
        assert_eq!(d.verdict, PaymentVerdict::Failed);
        assert_eq!(codes(&d), vec![PaymentCheck::PaymentReversed]);
    }

    #[test]
    fn card_checks_and_gateway_risk_each_send_to_review() {
        let mut p = paid("25");
        p.avs_result = Some("N".into());
        p.cvv_result = Some("N".into());
        p.gateway_risk = Some("Elevated".into());
        p.failed_attempts = 4;
        p.currency = Some("eur".into());
        let d = run(&p, FinancialStatus::Paid, "25");
        assert_eq!(d.verdict, PaymentVerdict::Review);
        assert_eq!(
            codes(&d),
            vec![
                PaymentCheck::CapturedInFull,
                PaymentCheck::CurrencyMismatch,
                PaymentCheck::AvsMismatch,
                PaymentCheck::CvvFailed,
                PaymentCheck::GatewayElevatedRisk,
                PaymentCheck::RepeatedDeclines,
            ]
        );
        // Only the findings behind the verdict are its reasons.
        assert_eq!(d.reasons().len(), 5);
        assert!(d.reasons()[0].contains("Paid in EUR"));
    }

    #[test]
    fn a_partial_avs_match_is_noted_but_verified() {
        let mut p = paid("25");
        p.avs_result = Some("Z".into());
        let d = run(&p, FinancialStatus::Paid, "25");
        assert_eq!(d.verdict, PaymentVerdict::Verified);
        assert!(codes(&d).contains(&PaymentCheck::AvsPartialMatch));
    }
}
