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
    /// Behind a reverse proxy: take the client's address from X-Forwarded-For, as the
    /// right-most entry that is not one of ORDERFLOW_TRUSTED_PROXIES (the proxy that connected
    /// is trusted whatever its address). Never set it without a proxy that writes the header.
    #[arg(long, env = "ORDERFLOW_TRUST_PROXY", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy: bool,
    /// Further proxies in front of that one whose X-Forwarded-For entries are skipped
    /// (comma-separated addresses or CIDR blocks, e.g. `10.0.0.0/8`).
    #[arg(
        long,
        env = "ORDERFLOW_TRUSTED_PROXIES",
        global = true,
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Let calls made for tenants (channel APIs, outbound webhooks) reach loopback over
    /// plain HTTP (development and tests); never in production, where only HTTPS to public
    /// addresses is allowed.
    #[arg(long, env = "ORDERFLOW_OUTBOUND_ALLOW_LOOPBACK", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub outbound_allow_loopback: bool,
    /// Serve `/metrics` on this address too (e.g. `0.0.0.0:9090`, a port Prometheus reaches
    /// and the public does not); there it needs no token.
    #[arg(long, env = "ORDERFLOW_METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,
    /// Bearer token `/metrics` on the main address asks for. Without it (and without
    /// ORDERFLOW_METRICS_BIND) metrics are not served.
    #[arg(
        long,
        env = "ORDERFLOW_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// The authserv-id(s) of the mail server that receives the tenants' support mail
    /// (comma-separated, e.g. `mx.example.com`): only `Authentication-Results` headers that it
    /// added are believed (RFC 8601); a sender can write any other. Unset: none are believed.
    #[arg(
        long,
        env = "ORDERFLOW_MAIL_AUTHSERV_ID",
        global = true,
        value_delimiter = ','
    )]
    pub mail_authserv_ids: Vec<String>,
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
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub outbound_allow_loopback: bool,
    pub metrics_bind: Option<String>,
    pub metrics_token: Option<Secret<String>>,
    pub mail_authserv_ids: Vec<String>,
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
        let trusted_proxies = s
            .trusted_proxies
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "ORDERFLOW_TRUSTED_PROXIES: {p} is not an address or CIDR block"
                        )
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let metrics_token = match s.metrics_token.filter(|t| !t.is_empty()) {
            Some(t) if t.len() < 16 => {
                bail!("ORDERFLOW_METRICS_TOKEN: must be at least 16 characters")
            }
            t => t.map(Secret::new),
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
            trusted_proxies,
            outbound_allow_loopback: s.outbound_allow_loopback,
            metrics_bind: s.metrics_bind.filter(|b| !b.trim().is_empty()),
            metrics_token,
            mail_authserv_ids: s
                .mail_authserv_ids
                .iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect(),
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

/// Reads a generated secret, or makes one when there is none, so that tokens and sealed
/// credentials survive restarts without configuration. An existing file is never replaced: a
/// new key would make every sealed credential unreadable, so a file that cannot be read or
/// holds too short a key stops start-up with what to do.
fn stored_secret(data_dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(name);
    match read_secret(&path) {
        Ok(Some(secret)) => return Ok(secret),
        Ok(None) => {}
        Err(why) => bail!(
            "{}: {why}. Orderflow does not replace it, since credentials sealed with it would \
             become unreadable: restore the file from a backup (or remove it only if nothing was \
             ever sealed with it)",
            path.display()
        ),
    }
    let secret = crate::domain::secret::random_token(48);
    match create_private(&path, &secret) {
        Ok(()) => Ok(secret.into_bytes()),
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read_secret(&path) {
            Ok(Some(secret)) => Ok(secret),
            _ => bail!(
                "{}: made by another process and not readable",
                path.display()
            ),
        },
        Err(e) => {
            Err(e).with_context(|| format!("ORDERFLOW_DATA_DIR: cannot write {}", path.display()))
        }
    }
}

/// The secret in `path`; None when there is no such file; why not otherwise.
fn read_secret(path: &Path) -> Result<Option<Vec<u8>>, String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read ({e})")),
    };
    let text = String::from_utf8(bytes).map_err(|_| "is not text".to_owned())?;
    let secret = text.trim();
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(format!(
            "holds {} bytes, fewer than the {MIN_JWT_SECRET_BYTES} a key needs",
            secret.len()
        ));
    }
    Ok(Some(secret.as_bytes().to_vec()))
}

/// Creates `path` with `contents`, readable by the owner only, all at once: written to a
/// temporary file, flushed to disk, then linked into place, which fails rather than replace a
/// file that appeared meanwhile.
fn create_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("secret"),
        crate::domain::secret::random_token(6)
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
    if let Err(e) = std::fs::remove_file(&temp)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %temp.display(), error = %e, "temporary key file left behind");
    }
    linked?;
    // The new name is durable once its directory is.
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

#[cfg(test)]
mod secret_file_tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "orderflow-config-{}",
            crate::domain::secret::random_token(8)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_missing_key_file_is_created_once_private_and_then_reused() {
        let dir = temp_dir();
        let first = stored_secret(&dir, "secret_key").unwrap();
        assert!(first.len() >= MIN_JWT_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret_key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(stored_secret(&dir, "secret_key").unwrap(), first);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn a_short_empty_or_unreadable_key_file_stops_start_up_and_is_kept() {
        let dir = temp_dir();
        let cases: [(&str, &[u8]); 3] =
            [("short", b"abc"), ("empty", b""), ("binary", &[0xff, 0xfe])];
        for (name, bytes) in cases {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            let err = stored_secret(&dir, name).unwrap_err().to_string();
            assert!(err.contains("does not replace it"), "{name}: {err}");
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} was rewritten");
        }
        // A directory where the key should be cannot be read (even by root).
        std::fs::create_dir(dir.join("secret_key")).unwrap();
        let err = stored_secret(&dir, "secret_key").unwrap_err().to_string();
        assert!(err.contains("cannot be read"), "{err}");
        assert!(dir.join("secret_key").is_dir());
    }
}
