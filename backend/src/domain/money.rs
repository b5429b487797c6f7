//! Money: an exact decimal amount in an ISO 4217 currency. Never a float.
//!
//! Amounts are stored as integers at scale 4 ("units": 12.5 is 125000) — exact on SQLite and
//! PostgreSQL alike and summable in SQL. Four places cover every ISO currency (at most three)
//! and platforms that report four (BigCommerce).

use std::fmt;

use rust_decimal::Decimal;

pub const STORAGE_SCALE: u32 = 4;

/// An ISO 4217 currency code with its number of minor-unit digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

/// Currencies whose minor unit is not two digits (ISO 4217); all others have two.
const EXPONENTS: &[(&str, u32)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// Three ASCII letters, upper-cased.
    pub fn parse(code: &str) -> Result<Self, &'static str> {
        let code = code.trim().to_ascii_uppercase();
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .map_err(|_| "must be a three-letter ISO 4217 code, e.g. USD")?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err("must be a three-letter ISO 4217 code, e.g. USD");
        }
        Ok(Self(bytes))
    }

    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point in this currency's smallest unit.
    pub fn exponent(&self) -> u32 {
        EXPONENTS
            .iter()
            .find(|(c, _)| *c == self.code())
            .map(|(_, e)| *e)
            .unwrap_or(2)
    }
}

/// A currency reads as its code wherever text is wanted (`&order.currency` as a `&str`).
impl std::ops::Deref for Currency {
    type Target = str;
    fn deref(&self) -> &str {
        self.code()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in a currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// From stored units (scale 4).
    pub fn from_units(units: i64, currency: Currency) -> Self {
        Self::new(Decimal::new(units, STORAGE_SCALE).normalize(), currency)
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// Stored units (scale 4). Amounts are read from units or checked by [`to_units`] on the
    /// way in, so nothing is lost; one beyond that is rounded to four places and bounded.
    pub fn units(&self) -> i64 {
        let mut scaled = self.amount.round_dp(STORAGE_SCALE);
        scaled.rescale(STORAGE_SCALE);
        i64::try_from(scaled.mantissa()).unwrap_or(if scaled.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount > Decimal::ZERO
    }

    /// The amount with at least the currency's decimals ("12.50", not "12.5"), as the API
    /// shows it.
    pub fn shown(&self) -> Decimal {
        let exponent = self.currency.exponent();
        let mut amount = self.amount.normalize();
        if amount.scale() < exponent {
            amount.rescale(exponent);
        }
        amount
    }

    /// The amount as a string with the currency's own number of decimals, e.g. "12.50".
    pub fn display_amount(&self) -> String {
        let mut amount = self.amount.round_dp(self.currency.exponent());
        amount.rescale(self.currency.exponent());
        amount.to_string()
    }
}

/// Sums of one currency's amounts (an order's figures are all in its currency).
impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        debug_assert_eq!(
            self.currency, other.currency,
            "adding amounts of two currencies"
        );
        Money::new(self.amount + other.amount, self.currency)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        debug_assert_eq!(
            self.currency, other.currency,
            "subtracting amounts of two currencies"
        );
        Money::new(self.amount - other.amount, self.currency)
    }
}

/// An amount from stored units, shown with at least the currency's decimals ("12.50", not
/// "12.5"), and more only when the amount has them.
pub fn amount_from_units(units: i64, currency: &str) -> Decimal {
    let exponent = Currency::parse(currency).map(|c| c.exponent()).unwrap_or(2);
    let mut amount = Decimal::new(units, STORAGE_SCALE).normalize();
    if amount.scale() < exponent {
        amount.rescale(exponent);
    }
    amount
}

/// Stored units of an amount; refuses more than four decimals or an out-of-range value.
pub fn to_units(amount: Decimal) -> Result<i64, &'static str> {
    let normalized = amount.normalize();
    if normalized.scale() > STORAGE_SCALE {
        return Err("has more than 4 decimal places");
    }
    let mut scaled = normalized;
    scaled.rescale(STORAGE_SCALE);
    i64::try_from(scaled.mantissa()).map_err(|_| "is too large")
}

/// A price, cost or charge as a merchant or integrator writes it: a decimal of at most four
/// places, not negative.
pub fn parse_price(raw: &str) -> Result<Decimal, &'static str> {
    let amount = parse_amount(raw)?;
    if amount.is_sign_negative() {
        return Err("must not be negative");
    }
    to_units(amount)?;
    Ok(amount)
}

/// Parses a decimal string the way integrators and platforms send money ("12.5", "0.0000").
pub fn parse_amount(raw: &str) -> Result<Decimal, &'static str> {
    raw.trim()
        .parse::<Decimal>()
        .map_err(|_| "must be a decimal number such as 12.50")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_trip_exactly() {
        for raw in ["0", "12.5", "62.6793", "0.0001", "999999999.9999"] {
            let d = parse_amount(raw).unwrap();
            let units = to_units(d).unwrap();
            assert_eq!(
                Money::from_units(units, Currency::USD).amount,
                d.normalize(),
                "{raw}"
            );
        }
        assert_eq!(to_units(parse_amount("12.5").unwrap()).unwrap(), 125_000);
        assert!(to_units(parse_amount("0.00001").unwrap()).is_err());
        assert!(parse_amount("twelve").is_err());
    }

    #[test]
    fn currencies_know_their_minor_units() {
        assert_eq!(Currency::parse("usd").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert!(Currency::parse("US").is_err() && Currency::parse("U$D").is_err());
        let yen = Money::from_units(
            to_units(parse_amount("1500").unwrap()).unwrap(),
            Currency::parse("JPY").unwrap(),
        );
        assert_eq!(yen.display_amount(), "1500");
        let usd = Money::from_units(125_000, Currency::USD);
        assert_eq!(usd.display_amount(), "12.50");
        assert_eq!(amount_from_units(125_000, "USD").to_string(), "12.50");
        assert_eq!(amount_from_units(626_793, "USD").to_string(), "62.6793");
        assert_eq!(amount_from_units(15_000_000, "JPY").to_string(), "1500");
    }
}
