//! Pure inventory rules: what a movement does to a stock level, and whether it may.

use std::fmt;

/// Why stock changed. Each kind moves on-hand and reserved units in its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum MovementKind {
    /// Units arrived (a purchase order, a transfer in).
    Receipt,
    /// A correction after a count, damage or loss: needs a reason.
    Adjustment,
    /// Units promised to an order.
    Reservation,
    /// A promise withdrawn (cancellation, reallocation).
    Release,
    /// Reserved units left the building.
    Shipment,
    /// Returned units put back on the shelf.
    ReturnRestock,
}

impl MovementKind {
    pub const ALL: [MovementKind; 6] = [
        MovementKind::Receipt,
        MovementKind::Adjustment,
        MovementKind::Reservation,
        MovementKind::Release,
        MovementKind::Shipment,
        MovementKind::ReturnRestock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receipt => "receipt",
            MovementKind::Adjustment => "adjustment",
            MovementKind::Reservation => "reservation",
            MovementKind::Release => "release",
            MovementKind::Shipment => "shipment",
            MovementKind::ReturnRestock => "return_restock",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Units of one variant at one warehouse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Level {
    pub fn available(self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// What a movement adds to on-hand and reserved units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delta {
    pub on_hand: i64,
    pub reserved: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InventoryError {
    /// The quantity is zero, or negative where only positive makes sense.
    BadQuantity(&'static str),
    /// An adjustment without a reason.
    ReasonRequired,
    /// Fewer units available than asked for.
    NotEnoughAvailable { available: i64, requested: i64 },
    /// Fewer units reserved than asked to release or ship.
    NotEnoughReserved { reserved: i64, requested: i64 },
    /// An adjustment would leave fewer units on hand than are reserved (or below zero).
    WouldDropBelowReserved {
        on_hand: i64,
        reserved: i64,
        delta: i64,
    },
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InventoryError::BadQuantity(why) => f.write_str(why),
            InventoryError::ReasonRequired => f.write_str("an adjustment needs a reason"),
            InventoryError::NotEnoughAvailable {
                available,
                requested,
            } => {
                write!(f, "only {available} available, {requested} requested")
            }
            InventoryError::NotEnoughReserved {
                reserved,
                requested,
            } => {
                write!(f, "only {reserved} reserved, {requested} requested")
            }
            InventoryError::WouldDropBelowReserved {
                on_hand,
                reserved,
                delta,
            } => write!(
                f,
                "adjusting {on_hand} on hand by {delta} would leave less than the {reserved} reserved for orders"
            ),
        }
    }
}

/// The change a movement of `kind` and `quantity` makes. Adjustments take a signed quantity;
/// every other kind a positive one.
pub fn plan(
    kind: MovementKind,
    quantity: i64,
    reason: Option<&str>,
) -> Result<Delta, InventoryError> {
    use MovementKind::*;
    if kind == Adjustment {
        if quantity == 0 {
            return Err(InventoryError::BadQuantity("delta must not be zero"));
        }
        if reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(InventoryError::ReasonRequired);
        }
    } else if quantity <= 0 {
        return Err(InventoryError::BadQuantity("quantity must be positive"));
    }
    Ok(match kind {
        Receipt | ReturnRestock | Adjustment => Delta {
            on_hand: quantity,
            reserved: 0,
        },
        Reservation => Delta {
            on_hand: 0,
            reserved: quantity,
        },
        Release => Delta {
            on_hand: 0,
            reserved: -quantity,
        },
        Shipment => Delta {
            on_hand: -quantity,
            reserved: -quantity,
        },
    })
}

/// The level after `delta`, or why it may not happen. The invariant it keeps:
/// 0 ≤ reserved ≤ on hand.
pub fn apply(level: Level, delta: Delta) -> Result<Level, InventoryError> {
    let next = Level {
        on_hand: level.on_hand + delta.on_hand,
        reserved: level.reserved + delta.reserved,
    };
    if next.reserved < 0 {
        return Err(InventoryError::NotEnoughReserved {
            reserved: level.reserved,
            requested: -delta.reserved,
        });
    }
    if next.reserved > next.on_hand {
        return Err(if delta.reserved > 0 && delta.on_hand == 0 {
            InventoryError::NotEnoughAvailable {
                available: level.available(),
                requested: delta.reserved,
            }
        } else {
            InventoryError::WouldDropBelowReserved {
                on_hand: level.on_hand,
                reserved: level.reserved,
                delta: delta.on_hand,
            }
        });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use MovementKind::*;

    fn level(on_hand: i64, reserved: i64) -> Level {
        Level { on_hand, reserved }
    }

    #[test]
    fn each_kind_moves_the_counts_its_own_way() {
        let start = level(10, 4);
        let cases = [
            (Receipt, 5, level(15, 4)),
            (Adjustment, -3, level(7, 4)),
            (Reservation, 6, level(10, 10)),
            (Release, 4, level(10, 0)),
            (Shipment, 4, level(6, 0)),
            (ReturnRestock, 2, level(12, 4)),
        ];
        for (kind, qty, expected) in cases {
            let delta = plan(kind, qty, Some("cycle count")).unwrap();
            assert_eq!(apply(start, delta).unwrap(), expected, "{kind:?}");
        }
    }

    #[test]
    fn no_unit_is_promised_twice() {
        let delta = plan(Reservation, 7, None).unwrap();
        assert_eq!(
            apply(level(10, 4), delta),
            Err(InventoryError::NotEnoughAvailable {
                available: 6,
                requested: 7
            })
        );
    }

    #[test]
    fn adjustments_need_a_reason_and_cannot_eat_reserved_units() {
        assert_eq!(
            plan(Adjustment, -1, None),
            Err(InventoryError::ReasonRequired)
        );
        assert_eq!(
            plan(Adjustment, -1, Some("  ")),
            Err(InventoryError::ReasonRequired)
        );
        assert!(matches!(
            plan(Adjustment, 0, Some("x")),
            Err(InventoryError::BadQuantity(_))
        ));
        let delta = plan(Adjustment, -7, Some("damaged")).unwrap();
        assert!(matches!(
            apply(level(10, 4), delta),
            Err(InventoryError::WouldDropBelowReserved { .. })
        ));
    }

    #[test]
    fn releases_and_shipments_need_reserved_units() {
        assert!(matches!(
            plan(Receipt, -1, None),
            Err(InventoryError::BadQuantity(_))
        ));
        let delta = plan(Shipment, 5, None).unwrap();
        assert_eq!(
            apply(level(10, 4), delta),
            Err(InventoryError::NotEnoughReserved {
                reserved: 4,
                requested: 5
            })
        );
        let delta = plan(Release, 1, None).unwrap();
        assert!(apply(level(3, 0), delta).is_err());
    }

    #[test]
    fn any_sequence_of_movements_keeps_the_invariant() {
        // A deterministic pseudo-random walk: whatever is accepted keeps 0 <= reserved <= on_hand.
        let mut state = level(0, 0);
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let kind = MovementKind::ALL[(seed % 6) as usize];
            let qty = ((seed >> 8) % 9) as i64 - if kind == Adjustment { 4 } else { 0 };
            if let Ok(delta) = plan(kind, qty, Some("walk"))
                && let Ok(next) = apply(state, delta)
            {
                state = next;
            }
            assert!(
                0 <= state.reserved && state.reserved <= state.on_hand,
                "{state:?}"
            );
        }
    }
}
