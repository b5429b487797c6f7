//! Problems found in an order on capture, kept on the order until someone resolves them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IssueCode {
    /// Lines − discounts + tax + shipping ≠ total, or the lines do not add up to the subtotal.
    TotalsMismatch,
    /// A line's SKU is not in the catalog.
    UnknownSku,
    /// A line that ships has no SKU at all.
    MissingSku,
    /// An order with physical goods has no shipping address.
    NoShippingAddress,
    /// The shipping address lacks what a label needs.
    AddressIncomplete,
    /// The postal code does not have its country's format.
    PostalCodeInvalid,
    /// Looks like another order of the same customer placed just before.
    PossibleDuplicate,
    /// A line with a quantity of zero or less.
    BadQuantity,
    /// The carrier could not verify the shipping address for delivery.
    AddressUndeliverable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub code: IssueCode,
    /// Where in the order, e.g. `shippingAddress.postalCode` or `lines.2.sku`.
    pub field: Option<String>,
    pub message: String,
    #[serde(default)]
    pub resolved: bool,
}

impl Issue {
    pub fn new(
        code: IssueCode,
        field: impl Into<Option<String>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field: field.into(),
            message: message.into(),
            resolved: false,
        }
    }
}
