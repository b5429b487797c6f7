//! Authorization declared where the field is: `#[graphql(guard = "Perm(Permission::X)")]`.

use async_graphql::{Context, Guard};

use crate::graphql::context::principal;
use crate::tenancy::Permission;

pub struct Perm(pub Permission);

impl Guard for Perm {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        principal(ctx)?.require(self.0)?;
        Ok(())
    }
}
