//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): LevelsOf.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::domain::{TenantId, VariantId};
use crate::graphql::loader::{Batch, load_lists};
use crate::lifecycle::inventory::repo::{self as stock_repo, StockLevel};
use crate::tenancy::TenantTx;

/// Stock levels of a variant, in every warehouse that has a level row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LevelsOf(pub VariantId);

impl Loader<(TenantId, LevelsOf)> for Batch {
    type Value = Vec<StockLevel>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, LevelsOf)],
    ) -> Result<HashMap<(TenantId, LevelsOf), Vec<StockLevel>>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<LevelsOf>| async move {
            let variants: Vec<VariantId> = ids.iter().map(|l| l.0).collect();
            let rows = stock_repo::levels_of(&tx, &variants).await?;
            Ok((tx, rows))
        };
        load_lists(&self.state, keys, fetch, |l: &StockLevel| {
            LevelsOf(l.variant)
        })
        .await
    }
}
