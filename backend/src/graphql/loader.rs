//! Batched lookups for nested fields, so a page of 100 products with their variants and stock
//! costs a handful of queries, not hundreds. Keys carry the tenant: each batch is split per
//! tenant and read through that tenant's [`TenantTx`], like every other read. Each module
//! adds the lookups of its own records (`impl Loader<(TenantId, Key)> for Batch`) in its
//! `loaders.rs`; this file holds the loader and the batching they share.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;

use crate::domain::TenantId;
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::TenantTx;

pub struct Batch {
    pub(crate) state: Arc<AppState>,
}

pub type Loaders = DataLoader<Batch>;

pub fn loaders(state: Arc<AppState>) -> Loaders {
    DataLoader::new(Batch { state }, tokio::spawn)
}

/// The keys of one batch, grouped by tenant.
fn per_tenant<K: Copy>(keys: &[(TenantId, K)]) -> HashMap<TenantId, Vec<K>> {
    let mut groups: HashMap<TenantId, Vec<K>> = HashMap::new();
    for (tenant, key) in keys {
        groups.entry(*tenant).or_default().push(*key);
    }
    groups
}

/// Runs `fetch` once per tenant in the batch and indexes what it returns by `key_of`.
pub async fn load_grouped<K, V, F, Fut>(
    state: &AppState,
    keys: &[(TenantId, K)],
    fetch: F,
    key_of: impl Fn(&V) -> K,
) -> Result<HashMap<(TenantId, K), V>, async_graphql::Error>
where
    K: Copy + Eq + Hash,
    F: Fn(TenantTx, Vec<K>) -> Fut,
    Fut: Future<Output = Result<(TenantTx, Vec<V>), sea_orm::DbErr>>,
{
    let mut out = HashMap::new();
    for (tenant, ids) in per_tenant(keys) {
        let tx = TenantTx::begin(&state.db, tenant)
            .await
            .map_err(AppError::from)?;
        let (tx, rows) = fetch(tx, ids).await.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
        for row in rows {
            out.insert((tenant, key_of(&row)), row);
        }
    }
    Ok(out)
}

/// Like [`load_grouped`] for one-to-many lookups: every key gets its (possibly empty) list.
pub async fn load_lists<K, V, F, Fut>(
    state: &AppState,
    keys: &[(TenantId, K)],
    fetch: F,
    key_of: impl Fn(&V) -> K,
) -> Result<HashMap<(TenantId, K), Vec<V>>, async_graphql::Error>
where
    K: Copy + Eq + Hash,
    F: Fn(TenantTx, Vec<K>) -> Fut,
    Fut: Future<Output = Result<(TenantTx, Vec<V>), sea_orm::DbErr>>,
{
    let mut out: HashMap<(TenantId, K), Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (tenant, ids) in per_tenant(keys) {
        let tx = TenantTx::begin(&state.db, tenant)
            .await
            .map_err(AppError::from)?;
        let (tx, rows) = fetch(tx, ids).await.map_err(AppError::from)?;
        tx.commit().await.map_err(AppError::from)?;
        for row in rows {
            out.entry((tenant, key_of(&row))).or_default().push(row);
        }
    }
    Ok(out)
}
