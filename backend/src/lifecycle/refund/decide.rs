//! What may be paid back, and how an amount splits into goods, shipping and tax. Pure.

/// What the order has taken and given back so far, in units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paid {
    pub captured: i64,
    /// Refunds made or in flight, money and store credit alike.
    pub refunded: i64,
    /// Shipping charged on the order, and refunded so far.
    pub shipping: i64,
    pub shipping_refunded: i64,
    /// The order's total and tax, for the tax share of a goods refund.
    pub total: i64,
    pub tax: i64,
}

impl Paid {
    pub fn refundable(&self) -> i64 {
        (self.captured - self.refunded).max(0)
    }
}

/// A refund split the way the ledger books it; `amount` = goods + shipping + tax.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub goods: i64,
    pub shipping: i64,
    pub tax: i64,
}

impl Split {
    pub fn amount(&self) -> i64 {
        self.goods + self.shipping + self.tax
    }
}

/// Why a refund cannot be made; each names the input field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("nothing was captured on this order, so nothing can be refunded")]
    NothingCaptured,
    #[error("must be more than zero")]
    NotPositive,
    #[error("at most {max} can be refunded (captured {captured} less {refunded} refunded)")]
    TooMuch {
        max: i64,
        captured: i64,
        refunded: i64,
    },
    #[error("at most {max} of shipping is left to refund")]
    TooMuchShipping { max: i64 },
}

impl Refusal {
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::TooMuchShipping { .. } => "shipping",
            _ => "amount",
        }
    }
}

/// Splits a staff refund of `amount` (shipping part `shipping`) for an order: the tax share
/// of the rest is the order's own (tax over what was not shipping). Without an amount,
/// everything left goes back, shipping included unless a shipping part is given.
pub fn split(paid: &Paid, amount: Option<i64>, shipping: Option<i64>) -> Result<Split, Refusal> {
    if paid.captured <= 0 {
        return Err(Refusal::NothingCaptured);
    }
    let shipping_left = (paid.shipping - paid.shipping_refunded).max(0);
    let shipping = match (amount, shipping) {
        (_, Some(s)) => s,
        (None, None) => shipping_left.min(paid.refundable()),
        (Some(_), None) => 0,
    };
    let amount = amount.unwrap_or_else(|| paid.refundable());
    if amount <= 0 || shipping < 0 {
        return Err(Refusal::NotPositive);
    }
    if shipping > shipping_left {
        return Err(Refusal::TooMuchShipping { max: shipping_left });
    }
    let shipping = shipping.min(amount);
    let rest = amount - shipping;
    let taxable = (paid.total - paid.shipping).max(0);
    let tax = if taxable == 0 {
        0
    } else {
        i64::try_from(i128::from(rest) * i128::from(paid.tax.max(0)) / i128::from(taxable))
            .unwrap_or(0)
            .min(rest)
    };
    let s = Split {
        goods: rest - tax,
        shipping,
        tax,
    };
    check(paid, &s)?;
    Ok(s)
}

/// A refund never takes more than was captured less what was refunded.
pub fn check(paid: &Paid, s: &Split) -> Result<(), Refusal> {
    if paid.captured <= 0 {
        return Err(Refusal::NothingCaptured);
    }
    if s.amount() <= 0 || s.goods < 0 || s.shipping < 0 || s.tax < 0 {
        return Err(Refusal::NotPositive);
    }
    if s.amount() > paid.refundable() {
        return Err(Refusal::TooMuch {
            max: paid.refundable(),
            captured: paid.captured,
            refunded: paid.refunded,
        });
    }
    Ok(())
}

/// The financial status after refunding.
pub fn status_after(paid: &Paid, refunding: i64) -> &'static str {
    if paid.refunded + refunding >= paid.captured {
        "refunded"
    } else {
        "partially_refunded"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paid() -> Paid {
        // 100.00 goods + 10.00 tax + 8.00 shipping, all captured.
        Paid {
            captured: 1_180_000,
            refunded: 0,
            shipping: 80_000,
            shipping_refunded: 0,
            total: 1_180_000,
            tax: 100_000,
        }
    }

    #[test]
    fn a_whole_refund_splits_like_the_order() {
        let s = split(&paid(), None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s,
            Split {
                goods: 1_000_000,
                shipping: 80_000,
                tax: 100_000
            }
        );
    }

    #[test]
    fn a_part_carries_its_share_of_tax() {
        let s = split(&paid(), Some(550_000), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.tax, 50_000);
        assert_eq!(s.amount(), 550_000);
    }

    #[test]
    fn never_more_than_captured_less_refunded() {
        let mut p = paid();
        p.refunded = 1_000_000;
        assert_eq!(
            split(&p, Some(180_001), None),
            Err(Refusal::TooMuch {
                max: 180_000,
                captured: 1_180_000,
                refunded: 1_000_000
            })
        );
        assert!(split(&p, Some(180_000), None).is_ok());
        p.refunded = p.captured;
        assert!(matches!(split(&p, None, None), Err(Refusal::NotPositive)));
        p.captured = 0;
        assert_eq!(split(&p, Some(1), None), Err(Refusal::NothingCaptured));
    }

    #[test]
    fn shipping_is_refunded_once() {
        let mut p = paid();
        p.shipping_refunded = 80_000;
        assert_eq!(
            split(&p, Some(100_000), Some(1)),
            Err(Refusal::TooMuchShipping { max: 0 })
        );
        assert_eq!(Refusal::TooMuchShipping { max: 0 }.field(), "shipping");
    }

    #[test]
    fn status_follows_what_is_left() {
        assert_eq!(status_after(&paid(), 1), "partially_refunded");
        assert_eq!(status_after(&paid(), 1_180_000), "refunded");
    }
}
