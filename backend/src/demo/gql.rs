//! The demo drives its shop through the same GraphQL API integrators use, in process, as the
//! demo owner: what it does is what a merchant's tools could do.

use async_graphql::{Request, Variables};
use serde_json::Value;

use crate::graphql::context::RequestMeta;
use crate::schema::AppSchema;
use crate::tenancy::Principal;

#[derive(Clone)]
pub struct Api {
    schema: AppSchema,
    principal: Principal,
}

impl Api {
    pub fn new(schema: AppSchema, principal: Principal) -> Self {
        Self { schema, principal }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Runs a query or mutation; GraphQL errors are errors.
    pub async fn call(&self, query: &str, vars: Value) -> anyhow::Result<Value> {
        let request = Request::new(query)
            .variables(Variables::from_json(vars))
            .data(RequestMeta {
                client_ip: "127.0.0.1".into(),
            })
            .data(self.principal.clone());
        let response = self.schema.execute(request).await;
        if let Some(e) = response.errors.first() {
            anyhow::bail!("{}", e.message);
        }
        Ok(response.data.into_json()?)
    }

    /// Runs a mutation `field`; its user errors are errors too.
    pub async fn mutate(&self, field: &str, query: &str, vars: Value) -> anyhow::Result<Value> {
        let data = self.call(query, vars).await?;
        let payload = data[field].clone();
        if let Some(e) = payload["userErrors"].as_array().and_then(|e| e.first()) {
            anyhow::bail!("{field}: {} ({})", e["message"], e["field"]);
        }
        Ok(payload)
    }
}
