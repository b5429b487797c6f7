//! Who gives an order's money back, decided from where the payment was taken: the channel
//! that took it (Shopify, WooCommerce), the processor whose id the payment carries (Stripe),
//! or nobody in Orderflow's reach, when the refund is only recorded ("simulated"). Pure.

/// The tenant's rule, or staff's choice for one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The channel's gateway for a channel's order, Stripe for a Stripe payment, else recorded.
    Auto,
    /// Recorded only: the money is moved outside Orderflow.
    Simulated,
    /// The tenant's payment processor (Stripe).
    Processor,
    /// The sales channel the order came from.
    Channel,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Auto => "auto",
            Rule::Simulated => "simulated",
            Rule::Processor => "processor",
            Rule::Channel => "channel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auto" => Rule::Auto,
            "simulated" => Rule::Simulated,
            "processor" => Rule::Processor,
            "channel" => Rule::Channel,
            _ => return None,
        })
    }
}

/// Channels whose API gives money back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelRefunder {
    Shopify,
    Woocommerce,
}

impl ChannelRefunder {
    pub fn of(channel: &str) -> Option<Self> {
        match channel {
            "shopify" => Some(Self::Shopify),
            "woocommerce" => Some(Self::Woocommerce),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shopify => "shopify",
            Self::Woocommerce => "woocommerce",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Shopify => "Shopify",
            Self::Woocommerce => "WooCommerce",
        }
    }
}

/// Who moves the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Simulated,
    Stripe,
    Channel(ChannelRefunder),
}

impl Route {
    /// As the refund row names its provider.
    pub fn provider(self) -> &'static str {
        match self {
            Route::Simulated => "builtin",
            Route::Stripe => "stripe",
            Route::Channel(c) => c.as_str(),
        }
    }

    pub fn of_provider(provider: &str) -> Option<Self> {
        match provider {
            "builtin" => Some(Route::Simulated),
            "stripe" => Some(Route::Stripe),
            other => ChannelRefunder::of(other).map(Route::Channel),
        }
    }

    /// Whether the money moves by a call out (a job), not in the caller's transaction.
    pub fn calls_out(self) -> bool {
        self != Route::Simulated
    }
}

/// What the decision looks at.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The order's channel (`shopify`, `api`, …).
    pub channel: &'a str,
    /// The order came through a connection of the tenant's (its API can be called).
    pub connected: bool,
    /// `payment.reference`.
    pub reference: Option<&'a str>,
    /// The tenant has a Stripe account set up.
    pub stripe: bool,
}

/// The decision and why, in words for the order page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub route: Route,
    pub why: String,
}

pub fn is_stripe_payment(reference: &str) -> bool {
    ["pi_", "ch_", "py_"]
        .iter()
        .any(|p| reference.starts_with(p))
}

/// Decides under `rule`; a rule that cannot be followed for this order says why.
pub fn decide(rule: Rule, f: Facts<'_>) -> Result<Decision, String> {
    let channel = ChannelRefunder::of(f.channel).filter(|_| f.connected);
    let stripe = f
        .reference
        .filter(|r| is_stripe_payment(r))
        .filter(|_| f.stripe);
    let by_channel = |c: ChannelRefunder| Decision {
        route: Route::Channel(c),
        why: format!(
            "{} took the payment: the refund is made through its API",
            c.title()
        ),
    };
    let by_stripe = |r: &str| Decision {
        route: Route::Stripe,
        why: format!("the payment {r} is Stripe's: the refund is made through Stripe"),
    };
    let simulated = |why: String| Decision {
        route: Route::Simulated,
        why,
    };
    match rule {
        Rule::Simulated => Ok(simulated(
            "refunds are recorded only: the money is moved outside Orderflow".into(),
        )),
        Rule::Channel => {
            channel
                .map(by_channel)
                .ok_or_else(|| match ChannelRefunder::of(f.channel) {
                    Some(c) => format!(
                        "the order's {} connection is gone, so its channel cannot refund it",
                        c.title()
                    ),
                    None => format!(
                        "orders from {} cannot be refunded through their channel (Shopify and \
                     WooCommerce can)",
                        f.channel
                    ),
                })
        }
        Rule::Processor => stripe.map(by_stripe).ok_or_else(|| {
            if !f.stripe {
                "no Stripe account is set up (Settings → Payment processors)".into()
            } else {
                format!(
                    "the payment reference {:?} is not a Stripe payment (pi_…, ch_…)",
                    f.reference.unwrap_or("")
                )
            }
        }),
        Rule::Auto => Ok(if let Some(c) = channel {
            by_channel(c)
        } else if let Some(r) = stripe {
            by_stripe(r)
        } else {
            simulated(match f.reference {
                Some(r) if is_stripe_payment(r) => format!(
                    "the payment {r} is Stripe's but no Stripe account is set up: the refund \
                     is recorded, and the money must be moved in Stripe"
                ),
                _ => "no processor or channel of Orderflow's took this payment: the refund is \
                      recorded, and the money must be moved where it was paid"
                    .into(),
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(channel: &'a str, reference: Option<&'a str>, stripe: bool) -> Facts<'a> {
        Facts {
            channel,
            connected: channel != "api",
            reference,
            stripe,
        }
    }

    #[test]
    fn a_channel_order_is_refunded_where_it_was_paid_unless_staff_say_otherwise() {
        let shopify = facts("shopify", Some("pi_3Mtw"), true);
        assert_eq!(
            decide(Rule::Auto, shopify).unwrap().route,
            Route::Channel(ChannelRefunder::Shopify)
        );
        assert_eq!(
            decide(Rule::Processor, shopify).unwrap().route,
            Route::Stripe
        );
        assert_eq!(
            decide(Rule::Simulated, shopify).unwrap().route,
            Route::Simulated
        );
        // A channel without a refunds API, or a lost connection: Stripe's id decides.
        let amazon = facts("amazon", Some("ch_1"), true);
        assert_eq!(decide(Rule::Auto, amazon).unwrap().route, Route::Stripe);
        assert!(
            decide(Rule::Channel, amazon)
                .unwrap_err()
                .contains("amazon")
        );
        let orphan = Facts {
            connected: false,
            ..facts("woocommerce", None, false)
        };
        assert_eq!(decide(Rule::Auto, orphan).unwrap().route, Route::Simulated);
        assert!(decide(Rule::Channel, orphan).unwrap_err().contains("gone"));
    }

    #[test]
    fn a_stripe_payment_needs_a_stripe_account_to_be_refunded_through_stripe() {
        let api = facts("api", Some("pi_3Mtw"), false);
        let d = decide(Rule::Auto, api).unwrap();
        assert_eq!(d.route, Route::Simulated);
        assert!(d.why.contains("no Stripe account"), "{}", d.why);
        assert!(
            decide(Rule::Processor, api)
                .unwrap_err()
                .contains("Stripe account")
        );
        let paypal = facts("api", Some("8MC585209K746392H"), true);
        assert_eq!(decide(Rule::Auto, paypal).unwrap().route, Route::Simulated);
        assert!(
            decide(Rule::Processor, paypal)
                .unwrap_err()
                .contains("not a Stripe")
        );
        assert_eq!(
            decide(Rule::Auto, facts("api", Some("ch_3"), true))
                .unwrap()
                .route,
            Route::Stripe
        );
        for r in [Rule::Auto, Rule::Simulated, Rule::Processor, Rule::Channel] {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
        }
    }
}
