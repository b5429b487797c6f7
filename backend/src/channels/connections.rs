//! Connecting a sales channel: the platform, the shop, and its secrets — sealed at rest with
//! the configured key, bound to their row, and never returned by the API.

use std::collections::BTreeMap;

use chrono::Utc;
use entity::channel_connections;
use sea_orm::ActiveValue::Set;

use super::Platform;
use super::deliveries::ProcessDelivery;
use super::poll::PollChannel;
use super::repo::{self, Connection};
use super::stock::CheckChannelStock;
use crate::auth::service::publish_audit;
use crate::domain::{ConnectionId, TenantId};
use crate::error::{Outcome, UserError, UserErrorCode as C};
use crate::infra::outbound::Outbound;
use crate::infra::seal::{SealError, Sealer};
use crate::jobs::Job;
use crate::state::AppState;
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
    /// Whether the channel may email the shopper about a fulfilment Orderflow pushes.
    pub notify_customer: Option<bool>,
    pub stock: StockFields,
}

/// How Orderflow keeps a channel's stock.
#[derive(Clone, Debug, Default)]
pub struct StockFields {
    pub sync: Option<bool>,
    /// Percent of the free stock the channel may show.
    pub share: Option<i32>,
    /// The warehouses that stock the channel (empty: all).
    pub warehouses: Option<Vec<uuid::Uuid>>,
    /// Where the channel keeps its stock (a Shopify location id, a BigCommerce location id).
    pub location: Option<String>,
}

impl StockFields {
    fn any(&self) -> bool {
        self.sync.is_some()
            || self.share.is_some()
            || self.warehouses.is_some()
            || self.location.is_some()
    }
}

/// Applies the stock fields to a connection's row, checked; what changed, in words.
async fn apply_stock(
    tx: &TenantTx,
    row: &mut channel_connections::ActiveModel,
    f: StockFields,
) -> Outcome<Vec<&'static str>> {
    let mut changed = Vec::new();
    if let Some(sync) = f.sync {
        row.stock_sync = Set(sync);
        changed.push(if sync {
            "stock kept by Orderflow"
        } else {
            "stock left alone"
        });
    }
    if let Some(share) = f.share {
        if !(1..=100).contains(&share) {
            return Err(
                UserError::on("stockShare", C::Invalid, "must be a percent from 1 to 100").into(),
            );
        }
        row.stock_share = Set(share);
        changed.push("stock share");
    }
    if let Some(ids) = f.warehouses {
        if ids.len() > 100 {
            return Err(UserError::on(
                "stockWarehouseIds",
                C::Invalid,
                "names at most 100 warehouses",
            )
            .into());
        }
        let found = crate::catalog::warehouse_repo::get_many(
            tx,
            &ids.iter()
                .copied()
                .map(crate::domain::WarehouseId)
                .collect::<Vec<_>>(),
        )
        .await?;
        if let Some(missing) = ids.iter().position(|id| !found.iter().any(|w| w.id == *id)) {
            return Err(UserError::at(
                &["stockWarehouseIds", &missing.to_string()],
                C::NotFound,
                "no such warehouse",
            )
            .into());
        }
        row.stock_warehouses = Set((!ids.is_empty()).then(|| serde_json::json!(ids)));
        changed.push("stock warehouses");
    }
    if let Some(location) = f.location {
        let location = location.trim().to_owned();
        if location.len() > 40 || !location.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UserError::on(
                "stockLocation",
                C::Invalid,
                "must be the platform's numeric location id",
            )
            .into());
        }
        row.stock_location = Set((!location.is_empty()).then_some(location));
        changed.push("stock location");
    }
    Ok(changed)
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

/// `shop.example.com` from `https://Shop.Example.com/`: a host name (with a port or a path for
/// a self-hosted WooCommerce shop, or a platform's shop id), nothing a URL could smuggle in.
fn normalise_shop(raw: &str) -> Result<String, UserError> {
    let invalid = || {
        UserError::on(
            "shopDomain",
            C::Invalid,
            "must be the shop's domain or id, e.g. my-shop.myshopify.com",
        )
    };
    let shop = raw.trim().to_ascii_lowercase();
    let shop = shop
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    if shop.is_empty()
        || shop.len() > 255
        || !shop
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/'))
    {
        return Err(invalid());
    }
    // What the connectors build from it must be a URL (the characters above leave no room
    // for credentials, a query or another host).
    reqwest::Url::parse(&format!("https://{shop}/")).map_err(|_| invalid())?;
    Ok(shop)
}

fn check_credentials(
    outbound: &Outbound,
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
        if key == "apiUrl" || key == "tokenUrl" {
            check_endpoint(outbound, value)
                .map_err(|why| UserError::at(&["credentials", key], C::Invalid, why))?;
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

/// An endpoint a connection may be pointed at: what the outbound client would call (HTTPS
/// to a public address; plain HTTP to loopback only where the operator allows it).
fn check_endpoint(outbound: &Outbound, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "must be an https:// URL".to_owned())?;
    outbound.check_url(&parsed).map_err(|e| e.to_string())
}

fn check_webhook_secret(
    platform: Platform,
    secret: Option<&str>,
) -> Result<Option<String>, UserError> {
    match secret.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => crate::auth::tokens::check_typed_secret(s)
            .map(Some)
            .map_err(|why| UserError::on("webhookSecret", C::Invalid, why)),
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
    let credentials = check_credentials(
        &state.outbound,
        platform,
        &f.credentials.unwrap_or_default(),
    )?;

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
        notify_customer: Set(f.notify_customer.unwrap_or(false)),
        stock_sync: Set(true),
        stock_share: Set(100),
        stock_warehouses: Set(None),
        stock_location: Set(None),
        stock_lease_until: Set(None),
        failures: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let mut row = row;
    apply_stock(&tx, &mut row, f.stock).await?;
    let connection = repo::insert_connection(&tx, row).await?;
    if crate::channels::stock::keeps_stock(&state.sealer, &connection) {
        // The catalog is read at once: the listing map, then the figures pushed.
        CheckChannelStock { connection: id }.enqueue(&tx).await?;
    }
    if connection.active {
        // Polled platforms are read at once; webhook platforms are reconciled after an hour.
        let first = if platform.pushes_webhooks() {
            now + super::poll::RECONCILE_EVERY
        } else {
            now
        };
        PollChannel { connection: id }
            .enqueue_at(&tx, first)
            .await?;
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
    if let Some(notify) = f.notify_customer {
        row.notify_customer = Set(notify);
        changed.push(if notify {
            "channel emails shoppers about fulfilments"
        } else {
            "channel does not email shoppers about fulfilments"
        });
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
        let credentials = check_credentials(&state.outbound, platform, &credentials)?;
        row.credentials_sealed = Set(Some(state.sealer.seal(
            &serde_json::to_string(&credentials).unwrap_or_default(),
            &context(tenant, id, "credentials"),
        )));
        changed.push("credentials");
    }
    let stock_changed = f.stock.any();
    changed.extend(apply_stock(&tx, &mut row, f.stock).await?);
    let credentials_changed = changed.contains(&"credentials");
    let connection = repo::update_connection(&tx, row).await?;
    if crate::channels::stock::keeps_stock(&state.sealer, &connection)
        && (resumed || stock_changed || credentials_changed)
    {
        // Read the catalog again (new access, new location) and push every figure anew.
        let check = CheckChannelStock { connection: id };
        let key = check.dedupe_key(tenant).unwrap_or_default();
        check.enqueue(&tx).await?;
        crate::jobs::queue::due_now(&tx, &key).await?;
        crate::channels::stock::listings::mark_all(&tx, Some(id)).await?;
    }
    if resumed {
        // What arrived while paused is mapped now, and polling starts again.
        for delivery in repo::pending_of(&tx, id).await? {
            ProcessDelivery { delivery }.enqueue(&tx).await?;
        }
        PollChannel { connection: id }.enqueue(&tx).await?;
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
    use super::*;

    #[test]
    fn endpoints_are_what_the_outbound_client_calls() {
        let strict = Outbound::new(false, "test");
        let dev = Outbound::new(true, "test");
        for ok in ["https://api.bigcommerce.com", "https://shop.example.com/x"] {
            assert!(check_endpoint(&strict, ok).is_ok(), "{ok}");
        }
        for local in [
            "http://127.0.0.1:9000",
            "http://localhost/x",
            "http://[::1]:80",
        ] {
            assert!(check_endpoint(&strict, local).is_err(), "{local}");
            assert!(check_endpoint(&dev, local).is_ok(), "{local}");
        }
        for bad in [
            "http://10.0.0.5/secret",
            "https://169.254.169.254/latest",
            "https://[::ffff:169.254.169.254]/",
            "ftp://x",
            "https://",
            "https://user@api.example.com",
            "javascript:alert(1)",
        ] {
            assert!(check_endpoint(&dev, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_shop_domain_is_a_host_and_nothing_more() {
        assert_eq!(
            normalise_shop("https://Shop.Example.com/").unwrap(),
            "shop.example.com"
        );
        assert_eq!(
            normalise_shop("example.com/shop").unwrap(),
            "example.com/shop"
        );
        assert_eq!(normalise_shop("A3NOPII").unwrap(), "a3nopii");
        for bad in [
            "",
            "evil.com@169.254.169.254",
            "shop.example.com?x=1",
            "shop.example.com#x",
            "shop example.com",
            "shop.example.com\\@evil",
            "%2e%2e",
        ] {
            assert!(normalise_shop(bad).is_err(), "{bad}");
        }
    }
}
