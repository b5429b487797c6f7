//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use rust_decimal::Decimal;

/// An exact decimal amount, as a string ("19.99"). Input takes a string or a number and is
/// checked by the service that uses it, so that a bad amount comes back as a user error that
/// names its field rather than a parse failure of the whole request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount(pub String);

#[Scalar(name = "Decimal")]
impl ScalarType for Amount {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) => Ok(Self(s)),
            Value::Number(n) => Ok(Self(n.to_string())),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Self(d.to_string())
    }
}

impl From<crate::domain::money::Money> for Amount {
    /// With at least the currency's decimals ("12.50").
    fn from(m: crate::domain::money::Money) -> Self {
        m.shown().into()
    }
}
