//! A stock-keeping unit: the merchant's own identifier of a variant, unique per tenant.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

pub const MAX_LEN: usize = 100;

impl Sku {
    /// Trimmed; 1 to 100 printable characters. Case is kept: platforms treat SKUs as given.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let sku = raw.trim();
        if sku.is_empty() {
            return Err("is required");
        }
        if sku.chars().count() > MAX_LEN {
            return Err("is longer than 100 characters");
        }
        if sku.chars().any(char::is_control) {
            return Err("contains control characters");
        }
        Ok(Self(sku.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Sku;

    #[test]
    fn skus_are_trimmed_and_bounded() {
        assert_eq!(
            Sku::parse(" TSHIRT-RED-M ").unwrap().as_str(),
            "TSHIRT-RED-M"
        );
        assert!(Sku::parse("   ").is_err());
        assert!(Sku::parse(&"x".repeat(101)).is_err());
        assert!(Sku::parse("a\tb").is_err());
    }
}
