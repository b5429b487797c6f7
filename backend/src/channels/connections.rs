//! Connecting a sales channel: the platform, the shop, and its secrets — sealed at rest with
//! the configured key, bound to their row, and never returned by the API.

use std::collections::BTreeMap;

use chrono::Utc;
use entity::channel_connections;
use sea_orm::ActiveValue::Set;

use super::Platform;
use super::repo::{self, Connection};
use crate::app::AppState;
use crate::auth::service::publish_audit;
use crate::domain::{ConnectionId, TenantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::infra::seal::{SealError, Sealer};
use crate::tenancy::repo::audit;
use crate::tenancy::{Permission, Principal, TenantTx};

/// The API credentials a platform cannot work without, by the names integrators know them by.
/// Webhook platforms need none to receive orders; their API credentials (see
/// [`api_credentials`]) only enable reconciliation.
pub fn required_credentials(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Shopify | Platform::Woocommerce => &[],
        Platform::Bigcommerce => &["storeHash", "accessToken"],
        Platform::Amazon => &["clientId", "clientSecret", "refreshToken", "marketplaceId"],
        Platform::Etsy => &["apiKey", "accessToken", "shopId"],
    }
}

/// The credentials that give access to a platform's API.
pub fn api_credentials(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Shopify => &["accessToken"],
        Platform::Woocommerce => &["consumerKey", "consumerSecret"],
        other => required_credentials(other),
    }
}

/// Optional credential names accepted beside the required ones.
const OPTIONAL_CREDENTIALS: &[&str] = &["apiUrl", "tokenUrl", "refreshToken", "clientSecret"];

#[derive(Clone, Debug, Default)]
pub struct ConnectionFields {
    pub platform: Option<Platform>,
    pub name: Option<String>,
    pub shop_domain: Option<String>,
    pub webhook_secret: Option<String>,
    pub credentials: Option<BTreeMap<String, String>>,
    pub active: Option<bool>,
}

/// What a connection's sealed secrets open to.
#[derive(Clone, Debug)]
pub struct Secrets {
    pub webhook_secret: Option<String>,
    pub credentials: BTreeMap<String, String>,
}

fn context(tenant: TenantId, id: ConnectionId, what: &str) -> String {
    format!("{tenant}/{id}/{what}")
}

pub fn open_secrets(sealer: &Sealer, c: &Connection) -> Result<Secrets, SealError> {
    let (tenant, id) = (TenantId(c.tenant_id), ConnectionId(c.id));
    let webhook_secret = c
        .webhook_secret_sealed
        .as_deref()
        .map(|s| sealer.open(s, &context(tenant, id, "webhook_secret")))
        .transpose()?;
    let credentials = match &c.credentials_sealed {
        Some(sealed) => {
            let json = sealer.open(sealed, &context(tenant, id, "credentials"))?;
            serde_json::from_str(&json).map_err(|_| SealError::Malformed)?
        }
        None => BTreeMap::new(),
    };
    Ok(Secrets {
        webhook_secret,
        credentials,
    })
}

/// `shop.example.com` from `https://Shop.Example.com/`.
fn normalise_shop(raw: &str) -> Result<String, UserError> {
    let shop = raw.trim().to_ascii_lowercase();
    let shop = shop
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    if shop.is_empty() || shop.len() > 255 || shop.chars().any(char::is_whitespace) {
        return Err(UserError::on(
            "shopDomain",
            C::Invalid,
            "must be the shop's domain or id, e.g. my-shop.myshopify.com",
        ));
    }
    Ok(shop)
}

fn check_credentials(
    platform: Platform,
    credentials: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, UserError> {
    let mut clean = BTreeMap::new();
    if credentials.len() > 20 {
        return Err(UserError::on(
            "credentials",
            C::Invalid,
            "at most 20 credentials",
        ));
    }
    for (key, value) in credentials {
        // Other names are kept too (a platform's own terms), but must look like names.
        let known = api_credentials(platform).contains(&key.as_str())
            || OPTIONAL_CREDENTIALS.contains(&key.as_str());
        if !known
            && (key.is_empty()
                || key.len() > 64
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(UserError::at(
                &["credentials", key],
                C::Invalid,
                "credential names are 1 to 64 letters, digits, _ or -",
            ));
        }
        let value = value.trim();
        if value.is_empty() || value.len() > 4096 {
            return Err(UserError::at(
                &["credentials", key],
                C::Invalid,
                "must be 1 to 4096 characters",
            ));
        }
        if (key == "apiUrl" || key == "tokenUrl") && !endpoint_allowed(value) {
            return Err(UserError::at(
                &["credentials", key],
                C::Invalid,
                "must be an https:// URL (http:// only on this machine, for local stand-ins)",
            ));
        }
        clean.insert(key.clone(), value.to_owned());
    }
    for key in required_credentials(platform) {
        if !clean.contains_key(*key) {
            return Err(UserError::at(
                &["credentials", key],
                C::Required,
                format!("{} needs {key}", platform.label()),
            ));
        }
    }
    Ok(clean)
}

/// Endpoints a connection may be pointed at: HTTPS, or plain HTTP to this machine only.
fn endpoint_allowed(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    match scheme {
        "https" => !name.is_empty(),
        "http" => matches!(name, "127.0.0.1" | "localhost" | "::1"),
        _ => false,
    }
}

fn check_webhook_secret(
    platform: Platform,
    secret: Option<&str>,
) -> Result<Option<String>, UserError> {
    match secret.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.len() < 8 => Err(UserError::on(
            "webhookSecret",
            C::Invalid,
            "must be at least 8 characters",
        )),
        Some(s) => Ok(Some(s.to_owned())),
        None if platform.pushes_webhooks() => Err(UserError::on(
            "webhookSecret",
            C::Required,
            format!("{} signs its webhooks with it", platform.label()),
        )),
        None => Ok(None),
    }
}

fn check_name(name: &str) -> Result<String, UserError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(UserError::on(
            "name",
            C::Invalid,
            "must be 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

pub async fn create_connection(
    state: &AppState,
    principal: &Principal,
    f: ConnectionFields,
) -> Outcome<Connection> {
    principal.require(Permission::ChannelsManage)?;
    let platform = f
        .platform
        .ok_or_else(|| UserError::on("platform", C::Required, "is required"))?;
    let name = check_name(f.name.as_deref().unwrap_or_default())?;
    let shop = normalise_shop(f.shop_domain.as_deref().unwrap_or_default())?;
    let webhook_secret = check_webhook_secret(platform, f.webhook_secret.as_deref())?;
    let credentials = check_credentials(platform, &f.credentials.unwrap_or_default())?;

    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    if repo::by_shop(&tx, platform.as_str(), &shop)
        .await?
        .is_some()
    {
        return Err(UserError::on("shopDomain", C::Taken, "this shop is connected already").into());
    }
    let id = ConnectionId::new();
    let tenant = principal.tenant;
    let now = Utc::now();
    let row = channel_connections::ActiveModel {
        tenant_id: Set(tenant.uuid()),
        id: Set(id.uuid()),
        platform: Set(platform.as_str().to_owned()),
        name: Set(name),
        shop_domain: Set(shop.clone()),
        webhook_secret_sealed: Set(webhook_secret.map(|s| {
            state
                .sealer
                .seal(&s, &context(tenant, id, "webhook_secret"))
        })),
        credentials_sealed: Set(Some(state.sealer.seal(
            &serde_json::to_string(&credentials).unwrap_or_default(),
            &context(tenant, id, "credentials"),
        ))),
        active: Set(f.active.unwrap_or(true)),
        sync_cursor: Set(None),
        last_synced_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let connection = repo::insert_connection(&tx, row).await?;
    if connection.active {
        // Polled platforms are read at once; webhook platforms are reconciled after an hour.
        let first = if platform.pushes_webhooks() {
            now + super::poll::RECONCILE_EVERY
        } else {
            now
        };
        crate::jobs::queue::enqueue(&tx, super::poll::job(tenant, id, first)).await?;
    }
    let entry = audit::record(
        &tx,
        principal.actor,
        "channel.connected",
        &format!("channel_connection:{id}"),
        serde_json::json!({ "platform": platform.as_str(), "shop": shop, "credentials": credentials.keys().collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(connection)
}

/// Renames, pauses or resumes a connection, or rotates its secrets (given ones replace).
pub async fn update_connection(
    state: &AppState,
    principal: &Principal,
    id: ConnectionId,
    f: ConnectionFields,
) -> Outcome<Connection> {
    principal.require(Permission::ChannelsManage)?;
    let tx = TenantTx::begin(&state.db, principal.tenant).await?;
    let Some(existing) = repo::connection(&tx, id).await? else {
        return Err(UserError::on("id", C::NotFound, "no such channel connection").into());
    };
    let platform = Platform::parse(&existing.platform).unwrap_or(Platform::Shopify);
    let resumed = f.active == Some(true) && !existing.active;
    let tenant = principal.tenant;
    let mut row: channel_connections::ActiveModel = existing.into();
    let mut changed = Vec::new();
    if let Some(name) = f.name {
        row.name = Set(check_name(&name)?);
        changed.push("name");
    }
    if let Some(active) = f.active {
        row.active = Set(active);
        changed.push(if active { "resumed" } else { "paused" });
    }
    if f.webhook_secret.is_some() {
        let secret = check_webhook_secret(platform, f.webhook_secret.as_deref())?;
        row.webhook_secret_sealed = Set(secret.map(|s| {
            state
                .sealer
                .seal(&s, &context(tenant, id, "webhook_secret"))
        }));
        changed.push("webhook secret");
    }
    if let Some(credentials) = f.credentials {
        let credentials = check_credentials(platform, &credentials)?;
        row.credentials_sealed = Set(Some(state.sealer.seal(
            &serde_json::to_string(&credentials).unwrap_or_default(),
            &context(tenant, id, "credentials"),
        )));
        changed.push("credentials");
    }
    let connection = repo::update_connection(&tx, row).await?;
    if resumed {
        // What arrived while paused is mapped now, and polling starts again.
        for delivery in repo::pending_of(&tx, id).await? {
            crate::jobs::queue::enqueue(&tx, super::deliveries::job(tenant, delivery)).await?;
        }
        crate::jobs::queue::enqueue(&tx, super::poll::job(tenant, id, Utc::now())).await?;
    }
    let entry = audit::record(
        &tx,
        principal.actor,
        "channel.updated",
        &format!("channel_connection:{id}"),
        serde_json::json!({ "changed": changed }),
    )
    .await?;
    tx.commit().await?;
    publish_audit(state, &entry).await;
    Ok(connection)
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints_are_https_or_this_machine() {
        for ok in [
            "https://api.bigcommerce.com",
            "https://shop.example.com/x",
            "http://127.0.0.1:9000",
            "http://localhost/x",
            "http://[::1]:80",
        ] {
            assert!(super::endpoint_allowed(ok), "{ok}");
        }
        for bad in [
            "http://10.0.0.5/secret",
            "http://169.254.169.254/latest",
            "ftp://x",
            "https://",
            "http://user@10.0.0.1",
            "javascript:alert(1)",
        ] {
            assert!(!super::endpoint_allowed(bad), "{bad}");
        }
    }
}
