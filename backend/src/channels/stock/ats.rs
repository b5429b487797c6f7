//! Available-to-sell: the one stock figure a channel shows for a SKU, derived from the
//! ledger. Free stock (on hand − reserved) across the warehouses that stock the channel,
//! the channel's share of it, less the safety buffer kept back for the channels' lag.

use crate::lifecycle::inventory::repo::StockLevel;

/// What decides a channel's figure, besides the levels.
#[derive(Clone, Debug)]
pub struct Rule<'a> {
    /// The warehouses whose stock the channel sells; `None`: every active one.
    pub warehouses: Option<&'a [uuid::Uuid]>,
    /// The active warehouses.
    pub active: &'a [uuid::Uuid],
    /// Percent of the free stock the channel may show (1–100).
    pub share: i32,
    /// Units kept back (the variant's own buffer, else the tenant's).
    pub buffer: i64,
}

/// The figure for one variant, from its levels (any warehouse's; others are ignored).
pub fn available_to_sell(levels: &[&StockLevel], rule: &Rule<'_>) -> i64 {
    let free: i64 = levels
        .iter()
        .filter(|l| rule.active.contains(&l.warehouse.uuid()))
        .filter(|l| {
            rule.warehouses
                .is_none_or(|only| only.contains(&l.warehouse.uuid()))
        })
        .map(|l| l.level.available().max(0))
        .sum();
    // Rounded down: a channel never shows a unit its share does not hold.
    let shared = free * i64::from(rule.share.clamp(0, 100)) / 100;
    (shared - rule.buffer.max(0)).max(0)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{VariantId, WarehouseId};
    use crate::lifecycle::inventory::decide::Level;

    fn level(warehouse: uuid::Uuid, on_hand: i64, reserved: i64) -> StockLevel {
        StockLevel {
            variant: VariantId(uuid::Uuid::nil()),
            warehouse: WarehouseId(warehouse),
            level: Level { on_hand, reserved },
            bin_location: None,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn free_stock_of_the_channels_warehouses_less_share_and_buffer() {
        let (a, b, c) = (
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
            uuid::Uuid::new_v4(),
        );
        let levels = [level(a, 10, 3), level(b, 5, 0), level(c, 100, 0)];
        let refs: Vec<&StockLevel> = levels.iter().collect();
        let active = [a, b];
        let all = Rule {
            warehouses: None,
            active: &active,
            share: 100,
            buffer: 0,
        };
        // c is inactive: its stock sells nowhere.
        assert_eq!(available_to_sell(&refs, &all), 12);
        let only_b = [b];
        assert_eq!(
            available_to_sell(
                &refs,
                &Rule {
                    warehouses: Some(&only_b),
                    ..all.clone()
                }
            ),
            5
        );
        // Half of 12 is 6, less a buffer of 2.
        assert_eq!(
            available_to_sell(
                &refs,
                &Rule {
                    share: 50,
                    buffer: 2,
                    ..all.clone()
                }
            ),
            4
        );
        // A share rounds down; a buffer larger than the stock shows none, never less.
        assert_eq!(
            available_to_sell(
                &refs,
                &Rule {
                    share: 33,
                    ..all.clone()
                }
            ),
            3
        );
        assert_eq!(
            available_to_sell(
                &refs,
                &Rule {
                    buffer: 50,
                    ..all.clone()
                }
            ),
            0
        );
        assert_eq!(available_to_sell(&[], &all), 0);
    }
}
