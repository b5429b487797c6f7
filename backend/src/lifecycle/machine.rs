//! The order state machine: which state may follow which. Pure; every change of an order's
//! state goes through [`check`], so an illegal move is an error and never a silent change.

use std::fmt;

use super::state::OrderState;

use OrderState as S;

/// The states `from` may move to (a release from `OnHold` is checked by [`check_release`]).
pub fn successors(from: OrderState) -> &'static [OrderState] {
    match from {
        S::Received => &[
            S::PaymentVerified,
            S::PaymentReview,
            S::AddressIssue,
            S::OnHold,
            S::Cancelled,
            S::Rejected,
        ],
        S::PaymentReview => &[S::PaymentVerified, S::OnHold, S::Cancelled, S::Rejected],
        S::PaymentVerified => &[
            S::Screened,
            S::FraudReview,
            S::OnHold,
            S::Cancelled,
            S::Rejected,
        ],
        S::FraudReview => &[S::Screened, S::OnHold, S::Cancelled, S::Rejected],
        S::Screened => &[
            S::Allocated,
            S::Backordered,
            S::OnHold,
            S::Cancelled,
            S::Rejected,
        ],
        S::Backordered => &[S::Allocated, S::OnHold, S::Cancelled, S::Rejected],
        S::Allocated => &[
            S::Routed,
            S::Backordered,
            S::OnHold,
            S::Cancelled,
            S::Rejected,
        ],
        S::Routed => &[
            S::Picking,
            S::Shipped,
            S::Allocated,
            S::OnHold,
            S::Cancelled,
        ],
        S::Picking => &[S::Packed, S::OnHold, S::Cancelled],
        S::Packed => &[S::Shipped, S::OnHold, S::Cancelled],
        // A label voided before the carrier scanned it reopens the parcel.
        S::Shipped => &[
            S::InTransit,
            S::OutForDelivery,
            S::Delivered,
            S::Routed,
            S::Packed,
        ],
        S::InTransit => &[S::OutForDelivery, S::Delivered],
        // A failed delivery attempt puts the parcel back in transit.
        S::OutForDelivery => &[S::Delivered, S::InTransit],
        // Once the address is fixed the order starts its checks again.
        S::AddressIssue => &[S::Received, S::OnHold, S::Cancelled, S::Rejected],
        S::OnHold => &[S::Cancelled, S::Rejected],
        S::Delivered | S::Cancelled | S::Rejected => &[],
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: OrderState,
    pub to: OrderState,
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an order in state {} cannot move to {}",
            self.from.as_str(),
            self.to.as_str()
        )
    }
}

pub fn check(from: OrderState, to: OrderState) -> Result<(), IllegalTransition> {
    if successors(from).contains(&to) {
        Ok(())
    } else {
        Err(IllegalTransition { from, to })
    }
}

/// A hold can be put on any order that has not shipped or ended.
pub fn can_hold(from: OrderState) -> bool {
    successors(from).contains(&S::OnHold)
}

/// A release returns an order to the state its hold interrupted.
pub fn check_release(
    from: OrderState,
    held_from: OrderState,
) -> Result<OrderState, IllegalTransition> {
    if from == S::OnHold && can_hold(held_from) {
        Ok(held_from)
    } else {
        Err(IllegalTransition {
            from,
            to: held_from,
        })
    }
}

/// Cancelling is allowed until parcels leave the building.
pub fn can_cancel(from: OrderState) -> bool {
    successors(from).contains(&S::Cancelled)
}

/// States in which the shipping address may still change (nothing is packed yet).
pub fn address_editable(state: OrderState) -> bool {
    matches!(
        state,
        S::Received
            | S::PaymentReview
            | S::PaymentVerified
            | S::FraudReview
            | S::Screened
            | S::Backordered
            | S::Allocated
            | S::Routed
            | S::AddressIssue
            | S::OnHold
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_allowed_step_by_step() {
        let path = [
            S::Received,
            S::PaymentVerified,
            S::Screened,
            S::Allocated,
            S::Routed,
            S::Picking,
            S::Packed,
            S::Shipped,
            S::InTransit,
            S::OutForDelivery,
            S::Delivered,
        ];
        for pair in path.windows(2) {
            assert_eq!(check(pair[0], pair[1]), Ok(()), "{pair:?}");
        }
    }

    #[test]
    fn skipping_stages_or_leaving_a_terminal_state_is_illegal() {
        assert!(check(S::Received, S::Allocated).is_err());
        assert!(check(S::PaymentReview, S::Screened).is_err());
        assert!(check(S::FraudReview, S::Allocated).is_err());
        for terminal in [S::Delivered, S::Cancelled, S::Rejected] {
            assert!(terminal.is_terminal());
            for to in OrderState::ALL {
                assert!(check(terminal, to).is_err(), "{terminal:?} → {to:?}");
            }
        }
        let err = check(S::Shipped, S::Cancelled).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an order in state shipped cannot move to cancelled"
        );
    }

    #[test]
    fn no_state_moves_to_itself() {
        for s in OrderState::ALL {
            assert!(check(s, s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn every_state_is_reachable_from_received() {
        let mut seen = vec![S::Received];
        let mut i = 0;
        while i < seen.len() {
            let from = seen[i];
            let mut next: Vec<OrderState> = successors(from).to_vec();
            if from != S::OnHold && can_hold(from) {
                next.push(S::OnHold);
            }
            for to in next {
                if !seen.contains(&to) {
                    seen.push(to);
                }
            }
            i += 1;
        }
        for s in OrderState::ALL {
            assert!(seen.contains(&s), "{s:?} unreachable");
        }
    }

    #[test]
    fn a_release_returns_to_where_the_hold_began() {
        assert_eq!(check_release(S::OnHold, S::Screened), Ok(S::Screened));
        assert!(check_release(S::OnHold, S::Shipped).is_err());
        assert!(check_release(S::Screened, S::Screened).is_err());
        assert!(!can_hold(S::Shipped));
        assert!(can_hold(S::Packed));
        assert!(!can_cancel(S::InTransit));
        assert!(can_cancel(S::Backordered));
    }
}
