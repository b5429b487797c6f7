//! Postal addresses: of warehouses, customers and orders.

use serde::{Deserialize, Serialize};

/// An address as stored (JSON) and exchanged. `country` is an ISO 3166-1 alpha-2 code.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    async_graphql::SimpleObject,
    async_graphql::InputObject,
)]
#[serde(rename_all = "camelCase", default)]
#[graphql(input_name = "AddressInput")]
pub struct Address {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub phone: Option<String>,
}

/// Two ASCII letters, upper-cased.
pub fn parse_country(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a two-letter ISO 3166 country code, e.g. US")
    }
}

/// Trims every part, drops empty optional parts, and checks what a label needs.
/// Errors name the part at fault.
pub fn normalise(mut a: Address) -> Result<Address, (&'static str, &'static str)> {
    fn opt(v: Option<String>) -> Option<String> {
        v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    }
    a.line1 = a.line1.trim().to_owned();
    a.city = a.city.trim().to_owned();
    a.name = opt(a.name);
    a.company = opt(a.company);
    a.line2 = opt(a.line2);
    a.region = opt(a.region);
    a.postal_code = opt(a.postal_code);
    a.phone = opt(a.phone);
    if a.line1.is_empty() {
        return Err(("line1", "is required"));
    }
    if a.city.is_empty() {
        return Err(("city", "is required"));
    }
    a.country = parse_country(&a.country).map_err(|m| ("country", m))?;
    Ok(a)
}
