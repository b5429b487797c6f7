//! What routing and labelling need about a tenant, loaded once per batch: its fulfillment
//! settings, carriers, active warehouses with their workload, and the weights and sizes of the
//! variants being shipped.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{variants, warehouses};
use sea_orm::DbErr;

use super::carrier::{Origin, RatingBook, origin_of};
use super::repo;
use crate::catalog::{product_repo, warehouse_repo};
use crate::domain::VariantId;
use crate::lifecycle::settings::fulfillment::{self as settings, FulfillmentSettings};
use crate::tenancy::TenantTx;

pub struct Context {
    pub settings: FulfillmentSettings,
    pub book: RatingBook,
    /// Active warehouses, oldest first.
    pub warehouses: Vec<warehouses::Model>,
    /// Shipments waiting to leave each warehouse, kept current as the batch routes.
    pub workload: HashMap<uuid::Uuid, i32>,
    pub variants: HashMap<uuid::Uuid, variants::Model>,
    pub now: DateTime<Utc>,
}

impl Context {
    pub async fn load(tx: &TenantTx, variants: &[VariantId]) -> Result<Self, DbErr> {
        let warehouses = warehouse_repo::list(tx, false, None, 1000).await?;
        let variants = product_repo::variants_by_id(tx, variants)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
        Ok(Self {
            settings: settings::load(tx).await?,
            book: repo::rating_book(tx).await?,
            warehouses,
            workload: repo::workload(tx).await?,
            variants,
            now: Utc::now(),
        })
    }

    pub fn warehouse(&self, id: uuid::Uuid) -> Option<&warehouses::Model> {
        self.warehouses.iter().find(|w| w.id == id)
    }

    pub fn origin(&self, id: uuid::Uuid) -> Option<Origin> {
        self.warehouse(id).map(origin_of)
    }
}
