//! Batched lookups of this module's records for nested GraphQL fields (see
//! [`crate::graphql::loader`]): CustomerId.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;

use crate::customers::repo::{self as customer_repo, Customer};
use crate::domain::{CustomerId, TenantId};
use crate::graphql::loader::{Batch, load_grouped};
use crate::tenancy::TenantTx;

impl Loader<(TenantId, CustomerId)> for Batch {
    type Value = Customer;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(TenantId, CustomerId)],
    ) -> Result<HashMap<(TenantId, CustomerId), Customer>, Self::Error> {
        let fetch = |tx: TenantTx, ids: Vec<CustomerId>| async move {
            let rows = customer_repo::get_many(&tx, &ids).await?;
            Ok((tx, rows))
        };
        load_grouped(&self.state, keys, fetch, |c: &Customer| CustomerId(c.id)).await
    }
}
