//! The GraphQL schema: assembly only. Each area contributes its query, mutation and
//! subscription objects (built with the kit in [`crate::graphql`]); this module merges them
//! and sets the limits every request obeys. The account's own API (sign-in, members, keys,
//! audit) lives here too: it is the schema's, not a stage's.

mod account;
mod auth;
mod parts;
mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::{MergedObject, MergedSubscription, Schema};

use crate::automation::graphql::{AutomationMutation, AutomationQuery};
use crate::catalog::graphql::{CatalogMutation, CatalogQuery};
use crate::channels::graphql::{ChannelMutation, ChannelQuery};
use crate::customers::graphql::CustomerQuery;
use crate::jobs::graphql::{JobsMutation, JobsQuery};
use crate::lifecycle::capture::graphql::OrderMutation;
use crate::lifecycle::engine::graphql::{EngineMutation, EngineQuery};
use crate::lifecycle::inventory::graphql::{InventoryMutation, InventoryQuery};
use crate::lifecycle::ledger::graphql::{LedgerMutation, LedgerQuery};
use crate::lifecycle::notify::graphql::{NotifyMutation, NotifyQuery};
use crate::lifecycle::reconcile::graphql::{ReconcileMutation, ReconcileQuery};
use crate::lifecycle::refund::graphql::RefundMutation;
use crate::lifecycle::refund::graphql::processors::{RefundSetupMutation, RefundSetupQuery};
use crate::lifecycle::returns::graphql::{ReturnsMutation, ReturnsQuery};
use crate::lifecycle::shipping::graphql::{ShippingMutation, ShippingQuery};
use crate::lifecycle::support::graphql::{SupportMutation, SupportQuery};
use crate::lifecycle::tracking::graphql::{TrackingMutation, TrackingQuery};
use crate::lifecycle::warehouse::graphql::{WarehouseMutation, WarehouseQuery};
use crate::order::graphql::{OrderQuery, OrderSubscription};
use crate::reporting::graphql::{ReportingMutation, ReportingQuery};
use crate::state::AppState;
use crate::webhooks::graphql::{WebhookMutation, WebhookQuery};

/// Deepest selection allowed. GraphiQL's introspection query reaches 13 levels.
pub const MAX_DEPTH: usize = 15;
/// Most fields a query may select, counting each connection's page size.
pub const MAX_COMPLEXITY: usize = 5_000;

// The roots are merged as a shallow tree of areas, not one long list: a merged object
// resolves a field by trying its members in turn, each a level of nested futures, and a long
// chain in front of the heavy order mutations overflowed a worker's stack in debug builds.

#[derive(MergedObject, Default)]
pub struct Query(
    account::AccountQuery,
    CatalogAreaQuery,
    OrderAreaQuery,
    MoneyAreaQuery,
    OpsAreaQuery,
);

#[derive(MergedObject, Default)]
pub struct CatalogAreaQuery(CatalogQuery, InventoryQuery, CustomerQuery);

#[derive(MergedObject, Default)]
pub struct OrderAreaQuery(
    OrderQuery,
    EngineQuery,
    ShippingQuery,
    TrackingQuery,
    WarehouseQuery,
    NotifyQuery,
    SupportQuery,
);

#[derive(MergedObject, Default)]
pub struct MoneyAreaQuery(
    ReturnsQuery,
    LedgerQuery,
    ReconcileQuery,
    ReportingQuery,
    RefundSetupQuery,
);

#[derive(MergedObject, Default)]
pub struct OpsAreaQuery(
    WebhookQuery,
    AutomationQuery,
    crate::automation::tasks::TasksQuery,
    JobsQuery,
    ChannelQuery,
    crate::channels::stock::graphql::ChannelStockQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    account::AccountMutation,
    CatalogAreaMutation,
    OrderAreaMutation,
    MoneyAreaMutation,
    OpsAreaMutation,
);

#[derive(MergedObject, Default)]
pub struct CatalogAreaMutation(CatalogMutation, InventoryMutation);

#[derive(MergedObject, Default)]
pub struct OrderAreaMutation(
    OrderMutation,
    EngineMutation,
    ShippingMutation,
    TrackingMutation,
    WarehouseMutation,
    NotifyMutation,
    SupportMutation,
);

#[derive(MergedObject, Default)]
pub struct MoneyAreaMutation(
    RefundMutation,
    RefundSetupMutation,
    ReturnsMutation,
    LedgerMutation,
    ReconcileMutation,
    ReportingMutation,
);

#[derive(MergedObject, Default)]
pub struct OpsAreaMutation(
    WebhookMutation,
    AutomationMutation,
    crate::automation::tasks::TasksMutation,
    JobsMutation,
    ChannelMutation,
    crate::channels::stock::graphql::ChannelStockMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(subscription::AccountSubscription, OrderSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

pub fn build_schema(state: Arc<AppState>) -> AppSchema {
    schema_builder()
        .data(crate::graphql::loader::loaders(state.clone()))
        .data(state)
        .finish()
}

fn schema_builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
}

/// The schema in SDL, as checked in at `backend/schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
