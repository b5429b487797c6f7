//! `orderflow demo`: a demo tenant with an owner, so a new user can log in at once, its shop
//! set up (`seed.rs`), and a stream of orders going through every stage (`stream.rs`) from
//! generated shoppers (`shoppers.rs`), driven through the GraphQL API (`gql.rs`) and the
//! channels' and carrier's signed webhooks.

pub mod gql;
pub mod seed;
pub mod shoppers;
pub mod stream;

use crate::auth::service::{self, sign_in::SignUp};
use crate::domain::Email;
use crate::domain::UserId;
use crate::error::Fail;
use crate::state::AppState;
use crate::tenancy::repo::{memberships, tenants, users};
use crate::tenancy::{GlobalTx, Principal, Role, UserTx};

pub const DEMO_EMAIL: &str = "demo@orderflow.local";
pub const DEMO_PASSWORD: &str = "orderflow-demo";
pub const DEMO_TENANT: &str = "Demo Shop";

/// Creates the demo tenant unless its owner exists; either way prints how to log in.
pub async fn ensure_demo_tenant(state: &AppState) -> anyhow::Result<()> {
    let email = Email::parse(DEMO_EMAIL).map_err(|m| anyhow::anyhow!("demo email {m}"))?;
    if demo_owner(state, &email).await?.is_none() {
        let input = SignUp {
            tenant_name: DEMO_TENANT.to_owned(),
            email: DEMO_EMAIL.to_owned(),
            password: DEMO_PASSWORD.to_owned(),
            currency: None,
        };
        match service::sign_up(state, input, "demo").await {
            Ok(_) => {}
            Err(Fail::User(err)) => anyhow::bail!("demo tenant not created: {}", err.message),
            Err(Fail::App(err)) => {
                anyhow::bail!("demo tenant not created: {}", err.public_message())
            }
        }
        // The operator made this account; its address is not a mailbox to confirm from.
        if let Some(owner) = demo_owner(state, &email).await? {
            let tx = GlobalTx::begin(&state.db).await?;
            users::mark_verified(&tx, UserId(owner.id)).await?;
            tx.commit().await?;
        }
    }
    let url = &state.config.public_url;
    let slug = demo_slug(state, &email).await?;
    println!(
        "\nOrderflow demo is ready.\n  Open      {url}/graphql (GraphiQL)\n  Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}\n  e.g. mutation {{ login(input: {{email: \"{DEMO_EMAIL}\", password: \"{DEMO_PASSWORD}\"}}) {{ accessToken }} }}\n  Import    orderflow import products FILE.csv --tenant {slug}\n"
    );
    Ok(())
}

/// The demo owner's account (the address's verified one, or else its newest).
async fn demo_owner(
    state: &AppState,
    email: &Email,
) -> anyhow::Result<Option<entity::users::Model>> {
    let tx = GlobalTx::begin(&state.db).await?;
    let user = users::all_by_email(&tx, email).await?.into_iter().next();
    tx.commit().await?;
    Ok(user)
}

/// The slug of the demo owner's first tenant, for the import hint.
async fn demo_slug(state: &AppState, email: &Email) -> anyhow::Result<String> {
    let Some(user) = demo_owner(state, email).await? else {
        return Ok(String::new());
    };
    let tx = UserTx::begin(&state.db, UserId(user.id)).await?;
    let tenant = memberships::of_user(&tx).await?.first().map(|m| m.tenant);
    let slug = match tenant {
        Some(t) => tenants::get(&tx, t).await?.and_then(|t| t.slug),
        None => None,
    };
    tx.commit().await?;
    Ok(slug.unwrap_or_default())
}

/// The demo owner acting in the demo tenant.
pub async fn owner_principal(state: &AppState) -> anyhow::Result<Principal> {
    let email = Email::parse(DEMO_EMAIL).map_err(|m| anyhow::anyhow!("demo email {m}"))?;
    let user = demo_owner(state, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo owner does not exist"))?;
    let tx = UserTx::begin(&state.db, UserId(user.id)).await?;
    let tenant = memberships::of_user(&tx)
        .await?
        .first()
        .map(|m| m.tenant)
        .ok_or_else(|| anyhow::anyhow!("the demo owner has no tenant"))?;
    tx.commit().await?;
    Ok(Principal::user(tenant, UserId(user.id), Role::Owner))
}
