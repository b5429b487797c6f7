//! What stops an order before payment is even looked at: capture issues still open. Pure.

use crate::lifecycle::state::OrderState;
use crate::order::issues::{Issue, IssueCode};

/// The state an order with these open issues must wait in, and why; None when it may go on.
pub fn gate(issues: &[Issue]) -> Option<(OrderState, String)> {
    let open: Vec<&Issue> = issues.iter().filter(|i| !i.resolved).collect();
    let address: Vec<&str> = open
        .iter()
        .filter(|i| {
            matches!(
                i.code,
                IssueCode::NoShippingAddress
                    | IssueCode::AddressIncomplete
                    | IssueCode::PostalCodeInvalid
            )
        })
        .map(|i| i.message.as_str())
        .collect();
    if !address.is_empty() {
        return Some((OrderState::AddressIssue, address.join("; ")));
    }
    let other: Vec<&str> = open.iter().map(|i| i.message.as_str()).collect();
    if !other.is_empty() {
        return Some((
            OrderState::OnHold,
            format!("Open capture issues: {}", other.join("; ")),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_problems_come_first_then_other_issues_hold() {
        let sku = Issue::new(
            IssueCode::UnknownSku,
            Some("lines.0.sku".into()),
            "SKU X is not in the catalog",
        );
        let zip = Issue::new(
            IssueCode::PostalCodeInvalid,
            None,
            "postal code 1 is not valid for US",
        );
        assert_eq!(gate(&[]), None);
        assert_eq!(
            gate(&[sku.clone(), zip.clone()]).map(|g| g.0),
            Some(OrderState::AddressIssue)
        );
        assert_eq!(
            gate(std::slice::from_ref(&sku)),
            Some((
                OrderState::OnHold,
                "Open capture issues: SKU X is not in the catalog".into()
            ))
        );
        let resolved = Issue {
            resolved: true,
            ..sku
        };
        assert_eq!(gate(&[resolved]), None);
    }
}
