//! What to do with an inbound message once its intent is known. Pure: the classification, the
//! order it is about (if we know) and the tenant's settings in; a decision with its reasons
//! out. Nothing goes to a shopper without a template, and nothing changes an order without a
//! person confirming it.

use serde::{Deserialize, Serialize};

use super::intent::{Classification, Intent};
use crate::lifecycle::machine;
use crate::lifecycle::state::OrderState;

/// What we know of the order a message is about.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderFacts {
    pub state: OrderState,
    /// A labelled parcel exists (there is something to track).
    pub tracked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    CancelOrder,
    ChangeAddress,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::CancelOrder => "cancel_order",
            ActionKind::ChangeAddress => "change_address",
        }
    }
}

/// An order change staff confirm with one click.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    pub kind: ActionKind,
    pub order_id: uuid::Uuid,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Answer now from the intent's template.
    pub auto_reply: bool,
    pub proposal: Option<Proposal>,
    /// For the reply template: whether the asked-for change can still be made.
    pub possible: Option<bool>,
    pub reasons: Vec<String>,
}

pub struct Facts<'a> {
    pub classification: &'a Classification,
    pub order: Option<(uuid::Uuid, &'a OrderFacts)>,
    /// From an autoresponder or a list: never answered automatically.
    pub automated: bool,
    pub auto_reply_enabled: bool,
    /// Percent.
    pub threshold: i32,
}

pub fn decide(f: &Facts<'_>) -> Decision {
    let c = f.classification;
    let mut reasons = vec![format!(
        "intent {} at {} % confidence",
        c.intent.as_str(),
        c.confidence
    )];
    let staff = |mut reasons: Vec<String>, why: &str| {
        reasons.push(why.to_owned());
        Decision {
            auto_reply: false,
            proposal: None,
            possible: None,
            reasons,
        }
    };
    if f.automated {
        return staff(
            reasons,
            "sent by an autoresponder or a mailing list: not answered automatically",
        );
    }
    if c.confidence < f.threshold {
        return staff(
            reasons,
            &format!(
                "below the {} % confidence needed to act alone: for staff, with a suggested reply",
                f.threshold
            ),
        );
    }
    let Some((order_id, order)) = f.order else {
        return staff(
            reasons,
            "no order could be matched to the sender: for staff, with a reply asking for the order number",
        );
    };
    let auto = f.auto_reply_enabled;
    let mut decide_with =
        |auto_reply: bool, proposal: Option<Proposal>, possible: Option<bool>, why: String| {
            reasons.push(why);
            if !auto && auto_reply {
                reasons.push("automatic replies are turned off: the reply waits for staff".into());
            }
            Decision {
                auto_reply: auto && auto_reply,
                proposal,
                possible,
                reasons: reasons.clone(),
            }
        };
    match c.intent {
        Intent::WhereIsMyOrder => decide_with(
            true,
            None,
            None,
            if order.tracked {
                "the order has a tracked parcel: answered with its live status and ETA".into()
            } else {
                format!(
                    "the order is {}: answered with where it stands",
                    order.state.as_str()
                )
            },
        ),
        Intent::Cancel => {
            let possible = machine::can_cancel(order.state);
            let proposal = possible.then(|| Proposal {
                kind: ActionKind::CancelOrder,
                order_id,
                reason: "the shopper asked to cancel".into(),
            });
            decide_with(
                true,
                proposal,
                Some(possible),
                if possible {
                    "not shipped yet: cancellation proposed to staff, the shopper told it is being processed".into()
                } else {
                    format!(
                        "the order is {}: too late to cancel, the shopper is offered a return",
                        order.state.as_str()
                    )
                },
            )
        }
        Intent::ChangeAddress => {
            let possible = machine::address_editable(order.state);
            let proposal = possible.then(|| Proposal {
                kind: ActionKind::ChangeAddress,
                order_id,
                reason: "the shopper asked to change the shipping address".into(),
            });
            decide_with(
                true,
                proposal,
                Some(possible),
                if possible {
                    "not packed yet: address change proposed to staff, who enter the new address"
                        .into()
                } else {
                    format!(
                        "the order is {}: the parcel is packed or on its way, staff must contact the carrier",
                        order.state.as_str()
                    )
                },
            )
        }
        _ => staff(
            reasons,
            "this kind of request needs a person: for staff, with a suggested reply",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classified(intent: Intent, confidence: i32) -> Classification {
        Classification {
            intent,
            confidence,
            scores: vec![(intent, confidence)],
            signals: Vec::new(),
        }
    }

    fn run(intent: Intent, confidence: i32, state: Option<OrderState>) -> Decision {
        let c = classified(intent, confidence);
        let facts = state.map(|state| OrderFacts {
            state,
            tracked: state.has_shipped(),
        });
        let id = uuid::Uuid::nil();
        decide(&Facts {
            classification: &c,
            order: facts.as_ref().map(|f| (id, f)),
            automated: false,
            auto_reply_enabled: true,
            threshold: 70,
        })
    }

    #[test]
    fn where_is_my_order_is_answered_when_the_order_is_known_and_the_model_is_sure() {
        assert!(run(Intent::WhereIsMyOrder, 90, Some(OrderState::InTransit)).auto_reply);
        assert!(run(Intent::WhereIsMyOrder, 90, Some(OrderState::Allocated)).auto_reply);
        assert!(!run(Intent::WhereIsMyOrder, 90, None).auto_reply);
        assert!(!run(Intent::WhereIsMyOrder, 55, Some(OrderState::InTransit)).auto_reply);
    }

    #[test]
    fn cancel_and_address_changes_are_proposed_only_while_possible() {
        let d = run(Intent::Cancel, 90, Some(OrderState::Allocated));
        assert_eq!(d.proposal.map(|p| p.kind), Some(ActionKind::CancelOrder));
        assert_eq!(d.possible, Some(true));
        let d = run(Intent::Cancel, 90, Some(OrderState::InTransit));
        assert!(d.proposal.is_none() && d.possible == Some(false) && d.auto_reply);
        let d = run(Intent::ChangeAddress, 90, Some(OrderState::Routed));
        assert_eq!(d.proposal.map(|p| p.kind), Some(ActionKind::ChangeAddress));
        let d = run(Intent::ChangeAddress, 90, Some(OrderState::Packed));
        assert!(d.proposal.is_none() && d.possible == Some(false));
    }

    #[test]
    fn everything_else_goes_to_staff() {
        for intent in [
            Intent::ReturnRefund,
            Intent::DamagedWrongItem,
            Intent::ProductQuestion,
            Intent::Other,
        ] {
            let d = run(intent, 99, Some(OrderState::Delivered));
            assert!(!d.auto_reply && d.proposal.is_none(), "{intent:?}");
        }
        let c = classified(Intent::WhereIsMyOrder, 99);
        let facts = OrderFacts {
            state: OrderState::InTransit,
            tracked: true,
        };
        let base = Facts {
            classification: &c,
            order: Some((uuid::Uuid::nil(), &facts)),
            automated: true,
            auto_reply_enabled: true,
            threshold: 70,
        };
        assert!(
            !decide(&base).auto_reply,
            "autoresponders are never answered"
        );
        let off = Facts {
            automated: false,
            auto_reply_enabled: false,
            ..base
        };
        let d = decide(&off);
        assert!(!d.auto_reply && d.reasons.iter().any(|r| r.contains("turned off")));
    }
}
