//! What the load harnesses share: an Orderflow in this process on the configured database (a
//! fresh one when DATABASE_URL names a PostgreSQL server) and Redis, GraphQL calls over
//! loopback, and the cleanup afterwards.

use std::path::PathBuf;
use std::sync::Arc;

use orderflow::app::AppState;
use orderflow::config::{Config, LogFormat, Settings};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

pub struct Bench {
    pub state: Arc<AppState>,
    /// "SQLite" or "PostgreSQL", with " + Redis" when REDIS_URL is set.
    pub name: String,
    server: Option<String>,
    data_dir: PathBuf,
}

async fn fresh_postgres(server: &str) -> String {
    let admin = Database::connect(server).await.unwrap();
    let name = format!("of_bench_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let cut = server.rfind('/').unwrap();
    format!("{}/{name}", &server[..cut])
}

#[allow(
    dead_code,
    reason = "each harness includes this module; not every one uses both"
)]
pub async fn setup(workers: usize) -> Bench {
    setup_with(workers, false).await
}

/// As [`setup`]; `loopback`: calls out may reach loopback (the harness's own stand-ins for
/// a platform's API).
#[allow(
    dead_code,
    reason = "each harness includes this module; not every one uses both"
)]
pub async fn setup_with(workers: usize, loopback: bool) -> Bench {
    let server = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let database_url = match &server {
        Some(server) => Some(fresh_postgres(server).await),
        None => None,
    };
    let redis = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
    let name = format!(
        "{}{}",
        if database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        if redis.is_some() { " + Redis" } else { "" }
    );
    let data_dir =
        std::env::temp_dir().join(format!("orderflow-bench-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings {
        database_url,
        db_role: "orderflow_app".into(),
        db_max_connections: 16,
        auto_migrate: true,
        redis_url: redis,
        redis_prefix: format!("bench:{}:", uuid::Uuid::new_v4().simple()),
        bind: "127.0.0.1:0".into(),
        data_dir: data_dir.clone(),
        public_url: None,
        jwt_secret: Some("bench secret, long enough for HS256 keys".into()),
        secret_key: None,
        smtp_url: None,
        mail_from: "Orderflow <bench@localhost>".into(),
        sender_domains: Vec::new(),
        outbound_allow_loopback: loopback,
        trusted_proxies: Vec::new(),
        metrics_bind: None,
        metrics_token: None,
        mail_authserv_ids: Vec::new(),
        llm_url: None,
        llm_model: String::new(),
        llm_api_key: None,
        log_format: LogFormat::Text,
        trust_proxy: false,
        workers,
    };
    let state = AppState::build(Config::resolve(settings).unwrap())
        .await
        .unwrap();
    Bench {
        state,
        name,
        server,
        data_dir,
    }
}

impl Bench {
    /// Removes the data directory and, on PostgreSQL, the run's database. Call it after the
    /// server stopped and every other connection was dropped.
    pub async fn teardown(self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let name = self
            .state
            .config
            .database_url
            .expose()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let postgres = self.state.config.is_postgres();
        drop(self.state);
        if let (Some(server), true) = (self.server, postgres)
            && let Ok(admin) = Database::connect(server.as_str()).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

pub async fn gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Value {
    let mut req = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

/// A setup mutation that must succeed: a refused one would make the measurement meaningless
/// (a missing carrier leaves every order waiting for a label, and the run never ends).
pub async fn must(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Value {
    let body = gql(client, base, token, query, vars).await;
    let refused = body.get("errors").is_some()
        || body["data"].as_object().is_some_and(|fields| {
            fields
                .values()
                .any(|f| f["userErrors"].as_array().is_some_and(|e| !e.is_empty()))
        });
    assert!(!refused, "setup refused: {query}\n{body:#}");
    body
}
