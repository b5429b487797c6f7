//! GraphQL of routing: the decision stored on an order (`Order.routing`): the plan chosen,
//! what it costs by part, the alternatives it beat, and the weights it was chosen with.

use crate::order::graphql::types::OrderFields;
use async_graphql::Object;
use async_graphql::{ID, SimpleObject};
use chrono::NaiveDate;
use std::sync::Arc;

use super::decide::{self, Decision};
use crate::graphql::relay::global_id;
use crate::lifecycle::shipping::graphql::types::RoutingWeights;

#[derive(Clone, Debug, SimpleObject)]
pub struct RoutingPiece {
    pub line_index: i32,
    pub sku: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct RoutingParcel {
    pub warehouse_id: ID,
    pub warehouse_code: String,
    pub pieces: Vec<RoutingPiece>,
    pub weight_grams: i32,
    pub service: Option<String>,
    pub zone: Option<i32>,
    pub price: Option<f64>,
    pub delivery_on: Option<NaiveDate>,
    pub days_late: i32,
}

/// What a plan costs, by part; `total` decided.
#[derive(Clone, Debug, SimpleObject)]
pub struct RoutingCost {
    pub shipping: f64,
    pub lateness: f64,
    pub workload: f64,
    pub parcels: f64,
    pub preference: f64,
    pub total: f64,
}

#[derive(Clone, Debug, SimpleObject)]
pub struct RoutingPlan {
    pub parcels: Vec<RoutingParcel>,
    pub cost: RoutingCost,
    pub shipping_price: f64,
    pub summary: String,
}

impl From<decide::Plan> for RoutingPlan {
    fn from(p: decide::Plan) -> Self {
        Self {
            parcels: p
                .parcels
                .into_iter()
                .map(|x| RoutingParcel {
                    warehouse_id: global_id("Warehouse", x.warehouse_id),
                    warehouse_code: x.warehouse,
                    pieces: x
                        .pieces
                        .into_iter()
                        .map(|p| RoutingPiece {
                            line_index: p.position,
                            sku: p.sku,
                            quantity: p.quantity,
                        })
                        .collect(),
                    weight_grams: x.weight_grams as i32,
                    service: x.quote.as_ref().map(|q| q.service.clone()),
                    zone: x.quote.as_ref().map(|q| i32::from(q.zone)),
                    price: x.quote.as_ref().map(|q| q.price),
                    delivery_on: x.quote.as_ref().map(|q| q.delivery_on),
                    days_late: x.days_late as i32,
                })
                .collect(),
            cost: RoutingCost {
                shipping: p.cost.shipping,
                lateness: p.cost.lateness,
                workload: p.cost.workload,
                parcels: p.cost.parcels,
                preference: p.cost.preference,
                total: p.cost.total,
            },
            shipping_price: p.shipping_price,
            summary: p.summary,
        }
    }
}

/// Why an order ships from where it does: the plan chosen, the alternatives it beat.
#[derive(Clone, Debug, SimpleObject)]
pub struct RoutingDecision {
    pub chosen: RoutingPlan,
    pub alternatives: Vec<RoutingPlan>,
    pub excluded: Vec<String>,
    /// `exact` (every assignment scored) or `heuristic`.
    pub method: String,
    pub evaluated: i32,
    pub weights: RoutingWeights,
    pub notes: Vec<String>,
}

impl From<Decision> for RoutingDecision {
    fn from(d: Decision) -> Self {
        Self {
            chosen: d.chosen.into(),
            alternatives: d.alternatives.into_iter().map(RoutingPlan::from).collect(),
            excluded: d.excluded,
            method: d.method,
            evaluated: d.evaluated as i32,
            weights: d.weights.into(),
            notes: d.notes,
        }
    }
}

/// The routing decision stored on an order, for `Order.routing`.
pub fn routing_of(value: Option<&serde_json::Value>) -> Option<RoutingDecision> {
    value
        .and_then(|v| serde_json::from_value::<Decision>(v.clone()).ok())
        .map(RoutingDecision::from)
}

/// Routing's field on an order: why it ships from where it does. A part of `Order` (listed in
/// `schema::parts`).
pub struct RoutingPart(Arc<OrderFields>);

impl From<Arc<OrderFields>> for RoutingPart {
    fn from(order: Arc<OrderFields>) -> Self {
        Self(order)
    }
}

#[Object]
impl RoutingPart {
    /// Why the order ships from where it does, with the alternatives and their costs.
    async fn routing(&self) -> Option<RoutingDecision> {
        routing_of(self.0.routing_record.as_ref())
    }
}
