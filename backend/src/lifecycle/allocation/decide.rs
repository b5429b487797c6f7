//! Stage 4, stock allocation: which warehouses' stock to promise to each line, and what must
//! wait for stock. Pure: takes what is available, returns the pieces to reserve and backorder.
//!
//! One warehouse that can fill the whole order wins (one parcel); otherwise each line comes
//! from the warehouse that can fill it alone, and only a line no warehouse can fill alone is
//! split. What no warehouse has is backordered. Routing (a later stage) may still re-plan
//! which warehouse ships; this stage only guarantees the units exist.

use std::collections::HashMap;

use crate::domain::{VariantId, WarehouseId};

/// What a line still needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Need {
    pub line: i32,
    pub variant: VariantId,
    pub quantity: i64,
}

/// Units of one variant available at one warehouse, in the tenant's preference order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Available {
    pub warehouse: WarehouseId,
    pub units: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Reserve {
        line: i32,
        variant: VariantId,
        warehouse: WarehouseId,
        quantity: i64,
    },
    Backorder {
        line: i32,
        variant: VariantId,
        quantity: i64,
    },
}

/// Plans the pieces for `needs` and takes the reserved units off `stock`, so that the next
/// order of a batch is planned against what is left.
pub fn plan(needs: &[Need], stock: &mut HashMap<VariantId, Vec<Available>>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let needs: Vec<&Need> = needs.iter().filter(|n| n.quantity > 0).collect();
    if needs.is_empty() {
        return pieces;
    }
    // Demand per variant (two lines may ask for the same variant).
    let mut demand: HashMap<VariantId, i64> = HashMap::new();
    for n in &needs {
        *demand.entry(n.variant).or_default() += n.quantity;
    }
    let units_at = |stock: &HashMap<VariantId, Vec<Available>>, v: VariantId, w: WarehouseId| {
        stock
            .get(&v)
            .and_then(|list| list.iter().find(|a| a.warehouse == w))
            .map_or(0, |a| a.units)
    };
    // Candidate warehouses, in preference order, from the first variant's list and others.
    let mut warehouses: Vec<WarehouseId> = Vec::new();
    for n in &needs {
        for a in stock.get(&n.variant).into_iter().flatten() {
            if !warehouses.contains(&a.warehouse) {
                warehouses.push(a.warehouse);
            }
        }
    }
    let single = warehouses
        .iter()
        .copied()
        .find(|w| demand.iter().all(|(v, q)| units_at(stock, *v, *w) >= *q));
    for n in needs {
        let list = stock.entry(n.variant).or_default();
        let mut left = n.quantity;
        let take = |a: &mut Available, left: &mut i64, pieces: &mut Vec<Piece>| {
            let q = (*left).min(a.units);
            if q > 0 {
                a.units -= q;
                *left -= q;
                pieces.push(Piece::Reserve {
                    line: n.line,
                    variant: n.variant,
                    warehouse: a.warehouse,
                    quantity: q,
                });
            }
        };
        let whole = single.or_else(|| list.iter().find(|a| a.units >= left).map(|a| a.warehouse));
        if let Some(w) = whole
            && let Some(a) = list.iter_mut().find(|a| a.warehouse == w)
        {
            take(a, &mut left, &mut pieces);
        }
        // Split across warehouses, largest first, only when no one warehouse has enough.
        let mut order: Vec<usize> = (0..list.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(list[*i].units));
        for i in order {
            if left == 0 {
                break;
            }
            take(&mut list[i], &mut left, &mut pieces);
        }
        if left > 0 {
            pieces.push(Piece::Backorder {
                line: n.line,
                variant: n.variant,
                quantity: left,
            });
        }
    }
    pieces
}

/// Units free of one variant, all warehouses together.
pub fn free(stock: &HashMap<VariantId, Vec<Available>>, v: VariantId) -> i64 {
    stock
        .get(&v)
        .map_or(0, |l| l.iter().map(|a| a.units.max(0)).sum())
}

/// The variants an allocation took below `threshold` units free — at least that many before,
/// fewer after — with what is left. Stock already low does not count again until it has been
/// refilled; 0 is off.
pub fn fell_below(
    before: &[(VariantId, i64)],
    stock: &HashMap<VariantId, Vec<Available>>,
    threshold: i64,
) -> Vec<(VariantId, i64)> {
    if threshold <= 0 {
        return Vec::new();
    }
    before
        .iter()
        .filter(|(_, was)| *was >= threshold)
        .map(|(v, _)| (*v, free(stock, *v)))
        .filter(|(_, now)| *now < threshold)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn v(n: u128) -> VariantId {
        VariantId(Uuid::from_u128(n))
    }
    fn w(n: u128) -> WarehouseId {
        WarehouseId(Uuid::from_u128(100 + n))
    }
    fn need(line: i32, variant: u128, quantity: i64) -> Need {
        Need {
            line,
            variant: v(variant),
            quantity,
        }
    }
    fn stock(levels: &[(u128, u128, i64)]) -> HashMap<VariantId, Vec<Available>> {
        let mut map: HashMap<VariantId, Vec<Available>> = HashMap::new();
        for (variant, warehouse, units) in levels {
            map.entry(v(*variant)).or_default().push(Available {
                warehouse: w(*warehouse),
                units: *units,
            });
        }
        map
    }
    fn reserve(line: i32, variant: u128, warehouse: u128, quantity: i64) -> Piece {
        Piece::Reserve {
            line,
            variant: v(variant),
            warehouse: w(warehouse),
            quantity,
        }
    }

    #[test]
    fn one_warehouse_that_has_everything_wins() {
        // Warehouse 1 has more of A, but only warehouse 2 has both.
        let mut s = stock(&[(1, 1, 10), (1, 2, 2), (2, 2, 5)]);
        let pieces = plan(&[need(0, 1, 2), need(1, 2, 1)], &mut s);
        assert_eq!(pieces, vec![reserve(0, 1, 2, 2), reserve(1, 2, 2, 1)]);
        assert_eq!(s[&v(1)][1].units, 0);
    }

    #[test]
    fn lines_come_from_the_warehouse_that_can_fill_them_then_split() {
        let mut s = stock(&[(1, 1, 1), (1, 2, 3), (2, 1, 4)]);
        let pieces = plan(&[need(0, 1, 4), need(1, 2, 2)], &mut s);
        assert_eq!(
            pieces,
            vec![
                reserve(0, 1, 2, 3),
                reserve(0, 1, 1, 1),
                reserve(1, 2, 1, 2)
            ]
        );
    }

    #[test]
    fn what_no_warehouse_has_is_backordered() {
        let mut s = stock(&[(1, 1, 2)]);
        let pieces = plan(&[need(0, 1, 5), need(1, 3, 1)], &mut s);
        assert_eq!(
            pieces,
            vec![
                reserve(0, 1, 1, 2),
                Piece::Backorder {
                    line: 0,
                    variant: v(1),
                    quantity: 3
                },
                Piece::Backorder {
                    line: 1,
                    variant: v(3),
                    quantity: 1
                },
            ]
        );
    }

    #[test]
    fn successive_orders_never_take_more_than_there_is() {
        let mut s = stock(&[(1, 1, 3), (1, 2, 2)]);
        let mut reserved = 0;
        let mut backordered = 0;
        for _ in 0..4 {
            for p in plan(&[need(0, 1, 2)], &mut s) {
                match p {
                    Piece::Reserve { quantity, .. } => reserved += quantity,
                    Piece::Backorder { quantity, .. } => backordered += quantity,
                }
            }
        }
        assert_eq!((reserved, backordered), (5, 3));
        assert!(s.values().flatten().all(|a| a.units == 0));
    }

    #[test]
    fn stock_falls_below_the_threshold_once_per_crossing() {
        let mut s = stock(&[(1, 1, 4), (1, 2, 2), (2, 1, 3)]);
        let before = |s: &HashMap<VariantId, Vec<Available>>| {
            vec![(v(1), free(s, v(1))), (v(2), free(s, v(2)))]
        };
        // 6 and 3 free; taking 2 of variant 1 leaves 4, not below 4; variant 2 was low already.
        let was = before(&s);
        plan(&[need(0, 1, 2), need(1, 2, 1)], &mut s);
        assert_eq!(fell_below(&was, &s, 4), vec![]);
        let was = before(&s);
        plan(&[need(0, 1, 1)], &mut s);
        assert_eq!(fell_below(&was, &s, 4), vec![(v(1), 3)]);
        // Already below: the next order says nothing; off says nothing.
        let was = before(&s);
        plan(&[need(0, 1, 1)], &mut s);
        assert_eq!(fell_below(&was, &s, 4), vec![]);
        assert_eq!(fell_below(&[(v(1), 9)], &s, 0), vec![]);
    }
}
