//! Configuration: the one place that reads the environment, through clap so that `--help`
//! documents every variable. Each has a working default for a laptop.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Settings as given on the command line or in the environment, before defaults are derived.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Settings {
    /// Database: `sqlite://path` or `postgres://user:pass@host/db`.
    /// [default: sqlite file `$ORDERFLOW_DATA_DIR/orderflow.db`]
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL role the application assumes so that row-level security applies to it.
    /// Created by the migrations; set it to `none` when DATABASE_URL already logs in as such a role.
    #[arg(
        long,
        env = "ORDERFLOW_DB_ROLE",
        global = true,
        default_value = "orderflow_app"
    )]
    pub db_role: String,
    /// Maximum database connections per process (SQLite always uses one writer connection).
    #[arg(
        long,
        env = "ORDERFLOW_DB_MAX_CONNECTIONS",
        global = true,
        default_value_t = 10
    )]
    pub db_max_connections: u32,
    /// Run pending migrations when `serve`, `worker` or `demo` start.
    #[arg(long, env = "ORDERFLOW_AUTO_MIGRATE", global = true, default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_migrate: bool,
    /// Redis for rate limits and live-event fan-out between processes, e.g. `redis://127.0.0.1:6379`.
    /// Without it everything runs in-process.
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so that several deployments can share one Redis.
    #[arg(
        long,
        env = "ORDERFLOW_REDIS_PREFIX",
        global = true,
        default_value = "orderflow:"
    )]
    pub redis_prefix: String,
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "ORDERFLOW_BIND",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub bind: String,
    /// Directory for the SQLite database, the mail outbox and the generated secrets.
    #[arg(
        long,
        env = "ORDERFLOW_DATA_DIR",
        global = true,
        default_value = "./data"
    )]
    pub data_dir: PathBuf,
    /// URL users reach Orderflow at, used in links in emails. [default: http://$ORDERFLOW_BIND]
    #[arg(long, env = "ORDERFLOW_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Secret that signs access tokens, at least 32 bytes. [default: generated once and kept in
    /// `$ORDERFLOW_DATA_DIR/jwt_secret`]
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Key that encrypts channel credentials and webhook secrets at rest, at least 32 bytes.
    /// Keep it with the database backups: without it the stored credentials cannot be read.
    /// [default: generated once and kept in `$ORDERFLOW_DATA_DIR/secret_key`]
    #[arg(
        long,
        env = "ORDERFLOW_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// SMTP server for outgoing mail, e.g. `smtp://user:pass@host:587?tls=required` or
    /// `smtps://…`. [default: none — mail is written to `$ORDERFLOW_DATA_DIR/outbox/*.eml`]
    #[arg(long, env = "SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of system mail (invitations).
    #[arg(
        long,
        env = "ORDERFLOW_MAIL_FROM",
        global = true,
        default_value = "Orderflow <no-reply@localhost>"
    )]
    pub mail_from: String,
    /// Domains tenants may send from (comma-separated; the SMTP service must be authorised
    /// for them: SPF, DKIM). A tenant's sender address elsewhere becomes its Reply-To, and
    /// its mail comes from ORDERFLOW_MAIL_FROM's address under its name. [default: the
    /// domain of ORDERFLOW_MAIL_FROM]
    #[arg(
        long,
        env = "ORDERFLOW_SENDER_DOMAINS",
        global = true,
        value_delimiter = ','
    )]
    pub sender_domains: Vec<String>,
    /// Log format: `text` or `json`. Filter with RUST_LOG (default `info`).
    #[arg(
        long,
        env = "ORDERFLOW_LOG_FORMAT",
        global = true,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Use the client address from X-Forwarded-For / Forwarded (only behind a trusted proxy).
    #[arg(long, env = "ORDERFLOW_TRUST_PROXY", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy: bool,
    /// Let outbound webhooks reach http://127.0.0.1 (development and tests); never in
    /// production, where receivers must be HTTPS on public addresses.
    #[arg(long, env = "ORDERFLOW_WEBHOOKS_ALLOW_LOOPBACK", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub webhooks_allow_loopback: bool,
    /// Jobs each `serve` or `worker` process runs at once. Jobs mostly wait on the database,
    /// so more than the cores helps on PostgreSQL; SQLite runs one writer at a time anyway.
    #[arg(long, env = "ORDERFLOW_WORKERS", global = true, default_value_t = 8)]
    pub workers: usize,
    /// An OpenAI-compatible API (`…/v1`) that drafts support replies for staff to edit; off
    /// when unset. Drafts are never sent by themselves.
    #[arg(long, env = "ORDERFLOW_LLM_URL", global = true)]
    pub llm_url: Option<String>,
    /// The model the drafts are asked of.
    #[arg(
        long,
        env = "ORDERFLOW_LLM_MODEL",
        global = true,
        default_value = "gpt-4o-mini"
    )]
    pub llm_model: String,
    #[arg(
        long,
        env = "ORDERFLOW_LLM_API_KEY",
        global = true,
        hide_env_values = true
    )]
    pub llm_api_key: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A value that must never appear in logs or debug output.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: Secret<String>,
    pub db_role: Option<String>,
    pub db_max_connections: u32,
    pub auto_migrate: bool,
    pub redis_url: Option<Secret<String>>,
    pub redis_prefix: String,
    pub bind: String,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub jwt_secret: Secret<Vec<u8>>,
    /// Seals channel secrets at rest (see [`crate::infra::seal`]).
    pub secret_key: Secret<Vec<u8>>,
    pub smtp_url: Option<Secret<String>>,
    pub mail_from: String,
    pub sender_domains: Vec<String>,
    pub log_format: LogFormat,
    pub trust_proxy: bool,
    pub webhooks_allow_loopback: bool,
    pub workers: usize,
    pub llm_url: Option<String>,
    pub llm_model: String,
    pub llm_api_key: Option<Secret<String>>,
}

const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Derives defaults; creates the data directory and, when none is configured, the JWT secret.
    pub fn resolve(s: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&s.data_dir).with_context(|| {
            format!("ORDERFLOW_DATA_DIR: cannot create {}", s.data_dir.display())
        })?;
        let database_url = match s.database_url.filter(|u| !u.is_empty()) {
            Some(url) => {
                if !(url.starts_with("sqlite:") || url.starts_with("postgres")) {
                    bail!("DATABASE_URL: expected sqlite://… or postgres://…");
                }
                url
            }
            None => format!(
                "sqlite://{}?mode=rwc",
                s.data_dir.join("orderflow.db").display()
            ),
        };
        let jwt_secret = match s.jwt_secret {
            Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => {
                bail!("JWT_SECRET: must be at least {MIN_JWT_SECRET_BYTES} bytes")
            }
            Some(secret) => secret.into_bytes(),
            None => stored_secret(&s.data_dir, "jwt_secret")?,
        };
        let secret_key = match s.secret_key {
            Some(key) if key.len() < MIN_JWT_SECRET_BYTES => {
                bail!("ORDERFLOW_SECRET_KEY: must be at least {MIN_JWT_SECRET_BYTES} bytes")
            }
            Some(key) => key.into_bytes(),
            None => stored_secret(&s.data_dir, "secret_key")?,
        };
        let public_url = s
            .public_url
            .unwrap_or_else(|| format!("http://{}", s.bind))
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            database_url: Secret::new(database_url),
            db_role: Some(s.db_role).filter(|r| !r.is_empty() && r != "none"),
            db_max_connections: s.db_max_connections.max(1),
            auto_migrate: s.auto_migrate,
            redis_url: s.redis_url.filter(|u| !u.is_empty()).map(Secret::new),
            redis_prefix: s.redis_prefix,
            bind: s.bind,
            data_dir: s.data_dir,
            public_url,
            jwt_secret: Secret::new(jwt_secret),
            secret_key: Secret::new(secret_key),
            smtp_url: s.smtp_url.filter(|u| !u.is_empty()).map(Secret::new),
            mail_from: s.mail_from,
            sender_domains: s
                .sender_domains
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
            log_format: s.log_format,
            trust_proxy: s.trust_proxy,
            webhooks_allow_loopback: s.webhooks_allow_loopback,
            workers: s.workers.clamp(1, 256),
            llm_url: s
                .llm_url
                .map(|u| u.trim().trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            llm_model: s.llm_model,
            llm_api_key: s.llm_api_key.filter(|k| !k.is_empty()).map(Secret::new),
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.expose().starts_with("postgres")
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

/// Reads a generated secret, or makes one, so that tokens and sealed credentials survive
/// restarts without configuration.
fn stored_secret(data_dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= MIN_JWT_SECRET_BYTES {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let secret = crate::auth::tokens::random_token(48);
    write_private(&path, &secret)
        .with_context(|| format!("ORDERFLOW_DATA_DIR: cannot write {}", path.display()))?;
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
