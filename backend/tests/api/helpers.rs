//! `spawn_app()`: a real server on a free port with a fresh database — SQLite by default,
//! a new PostgreSQL database when DATABASE_URL names a server — and Redis when REDIS_URL is set.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use orderflow::app::{self, AppState, Running};
use orderflow::config::{Config, LogFormat, Settings};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";
pub const JWT_SECRET: &str = "test secret, long enough for HS256 signing keys";

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub state: Arc<AppState>,
    pub settings: Settings,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    running: Option<Running>,
}

/// A signed-in member of a tenant.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub tenant_id: String,
}

pub fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A fresh PostgreSQL database on the configured server; its URL.
pub async fn fresh_postgres_database(server_url: &str) -> String {
    let admin = Database::connect(server_url)
        .await
        .expect("connect to DATABASE_URL");
    let name = format!("of_api_{}", Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server_url, String::new()),
    };
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

pub fn settings(data_dir: PathBuf, database_url: Option<String>) -> Settings {
    Settings {
        database_url,
        db_role: "orderflow_app".into(),
        db_max_connections: 5,
        auto_migrate: true,
        redis_url: std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()),
        redis_prefix: format!("test:{}:", Uuid::new_v4().simple()),
        bind: "127.0.0.1:0".into(),
        data_dir,
        public_url: Some("http://orderflow.test".into()),
        jwt_secret: Some(JWT_SECRET.into()),
        secret_key: None,
        smtp_url: None,
        mail_from: "Orderflow <no-reply@orderflow.test>".into(),
        // The test SMTP service "may send" for these domains (tenants' own From addresses).
        sender_domains: vec!["orderflow.test".into(), "kettle.example".into()],
        llm_url: None,
        llm_model: "test-model".into(),
        llm_api_key: None,
        log_format: LogFormat::Text,
        trust_proxy: false,
        workers: 8,
        outbound_allow_loopback: false,
        trusted_proxies: Vec::new(),
        metrics_bind: None,
        metrics_token: None,
        mail_authserv_ids: Vec::new(),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(fresh_settings().await).await
}

/// An app whose outbound calls may reach this machine's stand-ins for remote APIs (the
/// operator's ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK; off by default, as in production).
pub async fn spawn_app_reaching_loopback() -> TestApp {
    let mut settings = fresh_settings().await;
    settings.outbound_allow_loopback = true;
    spawn_with(settings).await
}

/// The settings of a fresh app: its own data directory and (on PostgreSQL) database.
pub async fn fresh_settings() -> Settings {
    let data_dir = std::env::temp_dir().join(format!("orderflow-test-{}", Uuid::new_v4().simple()));
    let database_url = match postgres_url() {
        Some(server) => Some(fresh_postgres_database(&server).await),
        None => None,
    };
    settings(data_dir, database_url)
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let config = Config::resolve(settings.clone()).expect("config");
    let data_dir = config.data_dir.clone();
    let state = AppState::build(config).await.expect("app state");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let running = app::start(state.clone(), listener, false).expect("start");
    TestApp {
        addr: running.addr,
        state,
        settings,
        data_dir,
        client: reqwest::Client::new(),
        running: Some(running),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server, keeping the database and data directory.
    pub async fn stop(mut self) -> Settings {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        self.settings.clone()
    }

    /// Posts a GraphQL request and returns (HTTP status, body).
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("json body"))
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(token, query, variables).await.1
    }

    /// Signs up and confirms the address from the emailed link, as its owner would (when mail
    /// goes to the outbox; an app sending by SMTP leaves it unconfirmed).
    pub async fn sign_up(&self, tenant: &str, email: &str) -> Session {
        let session = self.sign_up_unverified(tenant, email).await;
        if self.settings.smtp_url.is_none() {
            self.verify_email(&session, email).await;
        }
        session
    }

    /// Confirms `email` for the signed-in `session` with the newest link mailed to it.
    pub async fn verify_email(&self, session: &Session, email: &str) {
        let token = self.link_token_for(email, "verify-email?token=");
        let body = self
            .gql(
                Some(&session.access),
                "mutation($t: String!) { verifyEmail(input: {token: $t}) { success userErrors { code message } } }",
                json!({ "t": token }),
            )
            .await;
        assert_eq!(body["data"]["verifyEmail"]["success"], true, "{body}");
    }

    /// The token of the newest link `{marker}<token>` mailed to `email`.
    pub fn link_token_for(&self, email: &str, marker: &str) -> String {
        let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
        for entry in std::fs::read_dir(self.data_dir.join("outbox")).expect("outbox") {
            let path = entry.unwrap().path();
            let raw = std::fs::read_to_string(&path).unwrap();
            if !raw
                .to_ascii_lowercase()
                .contains(&format!("to: {}", email.to_ascii_lowercase()))
            {
                continue;
            }
            let text = decode_quoted_printable(&raw);
            let Some(at) = text.find(marker) else {
                continue;
            };
            let token: String = text[at + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                .collect();
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            found.push((modified, token.trim_end_matches('.').to_owned()));
        }
        found.sort();
        found
            .pop()
            .unwrap_or_else(|| panic!("no mail to {email} with {marker}"))
            .1
    }

    /// Signs up without confirming the address.
    pub async fn sign_up_unverified(&self, tenant: &str, email: &str) -> Session {
        let body = self
            .gql(
                None,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken tenant { id } userErrors { field message code } } }",
                json!({ "i": { "tenantName": tenant, "email": email, "password": PASSWORD } }),
            )
            .await;
        let p = &body["data"]["signUp"];
        assert_eq!(p["userErrors"], json!([]), "signUp failed: {body}");
        Session {
            access: p["accessToken"].as_str().unwrap().to_owned(),
            refresh: p["refreshToken"].as_str().unwrap().to_owned(),
            tenant_id: p["tenant"]["id"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn login(&self, email: &str, password: &str, tenant_id: Option<&str>) -> Value {
        self.gql(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken role tenant { id name } availableTenants { tenant { id name } role } userErrors { field message code } } }",
            json!({ "i": { "email": email, "password": password, "tenantId": tenant_id } }),
        )
        .await
    }

    /// Invites `email` with `role` and accepts from the emailed link; the new member's session.
    pub async fn add_member(&self, owner: &Session, email: &str, role: &str) -> Session {
        let body = self
            .gql(
                Some(&owner.access),
                "mutation($i: InviteUserInput!) { inviteUser(input: $i) { invitation { id } userErrors { code message } } }",
                json!({ "i": { "email": email, "role": role } }),
            )
            .await;
        assert_eq!(
            body["data"]["inviteUser"]["userErrors"],
            json!([]),
            "{body}"
        );
        let token = self.invitation_token_for(email);
        let body = self
            .gql(
                None,
                "mutation($i: AcceptInviteInput!) { acceptInvite(input: $i) { accessToken refreshToken tenant { id } userErrors { code message } } }",
                json!({ "i": { "token": token, "password": PASSWORD } }),
            )
            .await;
        let p = &body["data"]["acceptInvite"];
        assert_eq!(p["userErrors"], json!([]), "{body}");
        Session {
            access: p["accessToken"].as_str().unwrap().to_owned(),
            refresh: p["refreshToken"].as_str().unwrap().to_owned(),
            tenant_id: p["tenant"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// The newest invitation token mailed to `email`, read from the outbox's .eml files.
    pub fn invitation_token_for(&self, email: &str) -> String {
        let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
        for entry in std::fs::read_dir(self.data_dir.join("outbox")).expect("outbox") {
            let path = entry.unwrap().path();
            let raw = std::fs::read_to_string(&path).unwrap();
            if !raw.contains(&format!("To: {email}")) {
                continue;
            }
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            let text = decode_quoted_printable(&raw);
            // Other mail to the address (its confirmation link) is not the invitation.
            let Some(at) = text.find("token=ofi_") else {
                continue;
            };
            let start = at + "token=".len();
            let token: String = text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            found.push((modified, token));
        }
        found.sort();
        found.pop().expect("an invitation mail").1
    }

    pub async fn create_api_key(&self, session: &Session, scopes: &[&str]) -> (String, String) {
        let body = self
            .gql(
                Some(&session.access),
                "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } secret userErrors { code message } } }",
                json!({ "i": { "name": "integration", "scopes": scopes } }),
            )
            .await;
        let p = &body["data"]["createApiKey"];
        assert_eq!(p["userErrors"], json!([]), "{body}");
        (
            p["apiKey"]["id"].as_str().unwrap().to_owned(),
            p["secret"].as_str().unwrap().to_owned(),
        )
    }
}

/// Undoes quoted-printable soft breaks and escapes, enough to read links in test mail.
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The code of the first top-level error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

pub fn user_error_code(body: &Value, mutation: &str) -> String {
    body["data"][mutation]["userErrors"][0]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

/// A direct connection as DATABASE_URL's own user (the owner, outside row-level security),
/// for checking what was and was not written.
pub async fn owner_connection(app: &TestApp) -> sea_orm::DatabaseConnection {
    Database::connect(app.state.config.database_url.expose().as_str())
        .await
        .expect("owner connection")
}

pub async fn count_rows(app: &TestApp, table: &str) -> i64 {
    let db = owner_connection(app).await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    db.close().await.ok();
    n
}
