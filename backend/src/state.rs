//! The shared state every request and job is given: connections, keys, clients, built once
//! at start-up. It stands beneath everything that uses it, so it names no stage.

use std::sync::Arc;

use redis::aio::ConnectionManager;

use crate::config::Config;
use crate::infra::db::Db;
use crate::infra::events::EventBus;
use crate::infra::jwt::JwtKeys;
use crate::infra::mailer::Mailer;
use crate::infra::metrics::Metrics;
use crate::infra::ratelimit::RateLimiter;
use crate::infra::seal::Sealer;

/// Everything a request or job needs, built once at start-up.
pub struct AppState {
    pub config: Config,
    pub db: Db,
    pub redis: Option<ConnectionManager>,
    /// For connections of their own (blocking stream reads).
    pub redis_client: Option<redis::Client>,
    pub jwt: JwtKeys,
    pub sealer: Sealer,
    pub limiter: RateLimiter,
    pub mailer: Mailer,
    pub events: EventBus,
    pub metrics: Metrics,
    /// Every call made on a tenant's behalf goes through this client.
    pub outbound: crate::infra::outbound::Outbound,
    /// Calls to endpoints the operator configured (the drafting model): same caps, any address.
    pub operator_calls: crate::infra::outbound::Outbound,
    /// Channel API calls (through [`AppState::outbound`], with retries and rate limits).
    pub http: crate::infra::outbound::api::Client,
    /// Wakes idle job workers in this process when a job was just enqueued.
    pub wake_workers: tokio::sync::Notify,
    /// Places per tenant for jobs that call out (see [`crate::infra::gate`]).
    pub tenant_gate: crate::infra::gate::TenantGate,
}

impl AppState {
    /// Connects to the database (migrating it when configured to) and to Redis. The
    /// application builds it with `AppState::build` (in `app`), which also registers the
    /// job kinds and event subscribers.
    pub async fn connect(config: Config) -> anyhow::Result<Arc<Self>> {
        if config.auto_migrate {
            Db::migrate(&config).await?;
        }
        let db = Db::connect(&config).await?;
        let (redis, redis_client, limiter, events) = match &config.redis_url {
            Some(url) => {
                let (client, manager) = crate::infra::redis::connect(url.expose()).await?;
                let limiter = RateLimiter::Redis {
                    conn: manager.clone(),
                    prefix: config.redis_prefix.clone(),
                };
                let events =
                    EventBus::with_redis(client.clone(), manager.clone(), &config.redis_prefix);
                (Some(manager), Some(client), limiter, events)
            }
            None => (None, None, RateLimiter::memory(), EventBus::in_process()),
        };
        let outbound = crate::infra::outbound::Outbound::new(
            config.outbound_allow_loopback,
            concat!("Orderflow/", env!("CARGO_PKG_VERSION")),
        );
        Ok(Arc::new(Self {
            jwt: JwtKeys::new(config.jwt_secret.expose()),
            sealer: Sealer::new(config.secret_key.expose()),
            mailer: Mailer::from_config(&config)?,
            metrics: Metrics::new()?,
            config,
            db,
            redis,
            redis_client,
            limiter,
            events,
            outbound: outbound.clone(),
            operator_calls: crate::infra::outbound::Outbound::for_operator(concat!(
                "Orderflow/",
                env!("CARGO_PKG_VERSION")
            )),
            http: crate::infra::outbound::api::Client::with(outbound),
            wake_workers: tokio::sync::Notify::new(),
            tenant_gate: Default::default(),
        }))
    }
}
