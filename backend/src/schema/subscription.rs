//! Live updates over `/graphql/ws` (graphql-transport-ws).

use async_graphql::{Context, Subscription};
use futures_util::{Stream, StreamExt};

use crate::graphql::context::{principal, state};
use crate::graphql::guard::Perm;
use crate::graphql::live;
use crate::infra::events::topics;
use crate::schema::types::AuditEntry;
use crate::tenancy::Permission;
use crate::tenancy::repo::audit::AuditEntry as AuditRecord;

#[derive(Default)]
pub struct AccountSubscription;

#[Subscription]
impl AccountSubscription {
    /// Audit entries of the caller's tenant as they are written.
    #[graphql(guard = "Perm(Permission::AuditRead)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = AuditEntry>> {
        let tenant = principal(ctx)?.tenant;
        let stream = state(ctx)
            .events
            .subscribe(tenant, topics::AUDIT)
            .filter_map(|event| async move {
                serde_json::from_value::<AuditRecord>(event.payload)
                    .ok()
                    .map(AuditEntry::from)
            });
        live::while_allowed(ctx, Permission::AuditRead, stream).await
    }
}
