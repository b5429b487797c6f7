//! The `orderflow` binary as a child process.
//!
//! An [`Environment`] is what survives a restart: a data directory in a fresh temporary
//! directory, a fresh PostgreSQL database when `DATABASE_URL` names a PostgreSQL server
//! (otherwise the SQLite default under the data directory), and a Redis key prefix of its own
//! when `REDIS_URL` is set. [`Environment::start`] runs `orderflow serve` in it on a free port
//! and waits for `/readyz`; the returned [`Orderflow`] is killed when dropped.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long a start may take before `/readyz` answers 200 (migrations included).
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The header carrying the request id, in both directions.
pub const REQUEST_ID: &str = "x-request-id";

/// Variables of the test's own environment that must not leak into the child.
const INHERITED_SETTINGS: &[&str] = &[
    "DATABASE_URL",
    "REDIS_URL",
    "SMTP_URL",
    "JWT_SECRET",
    "RUST_LOG",
];

/// The `orderflow` binary to run: `ORDERFLOW_BIN` when set; otherwise the one next to this
/// test executable's profile directory (`<target>/debug/orderflow`, whatever the target
/// directory is), then `$CARGO_TARGET_DIR/debug/orderflow`, then
/// `<workspace>/target/debug/orderflow`.
pub fn binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("ORDERFLOW_BIN").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        ensure!(
            path.is_file(),
            "ORDERFLOW_BIN is {}, which is not a file",
            path.display()
        );
        return Ok(path);
    }
    let name = format!("orderflow{}", std::env::consts::EXE_SUFFIX);
    let mut candidates = Vec::new();
    // A test executable lives in <target>/<profile>/deps/.
    if let Ok(exe) = std::env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        candidates.push(profile_dir.join(&name));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(target).join("debug").join(&name));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(env!("CARGO_MANIFEST_DIR")));
    candidates.push(workspace.join("target").join("debug").join(&name));
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|p| format!("  {}", p.display()))
        .collect();
    bail!(
        "the orderflow binary was not found; build it first with `cargo build -p orderflow` \
         (`cargo test --workspace` builds it too), or point ORDERFLOW_BIN at one. Looked in:\n{}",
        looked.join("\n")
    )
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a free port")?;
    Ok(listener.local_addr()?.port())
}

/// `DATABASE_URL` when it names a PostgreSQL server.
pub fn postgres_server_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// `server_url` with its database (the path) replaced by `name`, query string kept.
pub fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let cut = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..cut])
}

struct PostgresDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    async fn create(server_url: &str, name: &str) -> anyhow::Result<Self> {
        let admin = Database::connect(server_url)
            .await
            .context("DATABASE_URL: cannot connect to create the test database")?;
        let created = admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("cannot create database {name}"));
        admin.close().await.ok();
        created?;
        Ok(Self {
            server_url: server_url.to_owned(),
            name: name.to_owned(),
            url: with_database(server_url, name),
        })
    }

    /// Drops the database from a thread of its own, so that it works from `Drop` inside or
    /// outside a tokio runtime. Best effort: a leftover is dropped by CI's next run.
    fn drop_blocking(&self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let work = async {
                    let admin = Database::connect(server_url.as_str()).await?;
                    let dropped = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                    dropped.map(|_| ())
                };
                let _ = tokio::time::timeout(Duration::from_secs(15), work).await;
            });
        });
        let _ = dropper.join();
    }
}

/// What one or more consecutive `orderflow` processes share.
pub struct Environment {
    id: String,
    root: PathBuf,
    data_dir: PathBuf,
    postgres: Option<PostgresDatabase>,
    redis: Option<(String, String)>,
    env: Vec<(String, String)>,
    starts: u32,
}

impl Environment {
    /// A fresh temporary data directory, and a fresh PostgreSQL database when `DATABASE_URL`
    /// names a PostgreSQL server.
    pub async fn new() -> anyhow::Result<Self> {
        let id = Uuid::new_v4().simple().to_string();
        let root = std::env::temp_dir().join(format!("orderflow-e2e-{id}"));
        let data_dir = root.join("data");
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let mut env = Self {
            redis: std::env::var("REDIS_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .map(|url| (url, format!("e2e:{id}:"))),
            id,
            root,
            data_dir,
            postgres: None,
            env: Vec::new(),
            starts: 0,
        };
        if let Some(server) = postgres_server_url() {
            let name = format!("of_e2e_{}", env.id);
            env.postgres = Some(PostgresDatabase::create(&server, &name).await?);
        }
        Ok(env)
    }

    /// Sets a variable for every process started from now on (e.g. `SMTP_URL`).
    pub fn set_env(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
    }

    /// Uses this Redis (e.g. a [`crate::redis::RedisServer`] of the test's own) for every
    /// process started from now on.
    pub fn set_redis(&mut self, url: &str) {
        self.redis = Some((url.to_owned(), format!("e2e:{}:", self.id)));
    }

    /// Starts `orderflow worker` with `workers` job workers; killed when dropped.
    pub fn spawn_worker(&mut self, workers: usize) -> anyhow::Result<Worker> {
        let binary = binary()?;
        self.starts += 1;
        let stderr_path = self.root.join(format!("worker-{}.stderr.log", self.starts));
        let mut command = self.command(&binary, &["worker"]);
        command
            .env("ORDERFLOW_WORKERS", workers.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr_path)?);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {} worker", binary.display()))?;
        Ok(Worker {
            child: Some(child),
            stderr_path,
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `"postgres"` or `"sqlite"`, with `"+redis"` when Redis is in use: for messages.
    pub fn describe(&self) -> String {
        let db = if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        };
        let redis = if self.redis.is_some() { "+redis" } else { "" };
        format!("{db}{redis}")
    }

    /// Starts `orderflow serve` on a free port and waits until `/readyz` answers 200.
    pub async fn start(&mut self) -> anyhow::Result<Orderflow> {
        let binary = binary()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut app = self.spawn(&binary)?;
            match app.wait_ready(READY_TIMEOUT).await {
                Ok(()) => return Ok(app),
                // The free port was taken between choosing it and binding it: choose again.
                Err(_) if attempt < 3 && app.stderr().contains("cannot listen on") => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// `orderflow <args>` with this environment's settings (database, Redis, data directory).
    fn command(&self, binary: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(binary);
        command.args(args).current_dir(&self.root);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ORDERFLOW_") {
                command.env_remove(&key);
            }
        }
        for key in INHERITED_SETTINGS {
            command.env_remove(key);
        }
        command
            .env("ORDERFLOW_DATA_DIR", &self.data_dir)
            .env("RUST_LOG", "warn");
        if let Some(db) = &self.postgres {
            command.env("DATABASE_URL", &db.url);
        }
        if let Some((url, prefix)) = &self.redis {
            command
                .env("REDIS_URL", url)
                .env("ORDERFLOW_REDIS_PREFIX", prefix);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs a one-off command (`import`, `migrate`) to completion.
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let binary = binary()?;
        let mut command = tokio::process::Command::from(self.command(&binary, args));
        command.stdin(Stdio::null());
        command
            .output()
            .await
            .with_context(|| format!("cannot run {} {}", binary.display(), args.join(" ")))
    }

    fn spawn(&mut self, binary: &Path) -> anyhow::Result<Orderflow> {
        self.starts += 1;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let stdout_path = self
            .root
            .join(format!("orderflow-{}.stdout.log", self.starts));
        let stderr_path = self
            .root
            .join(format!("orderflow-{}.stderr.log", self.starts));
        let metrics_addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let mut command = self.command(binary, &["serve"]);
        command
            .env("ORDERFLOW_BIND", addr.to_string())
            .env("ORDERFLOW_METRICS_BIND", metrics_addr.to_string());
        command
            .stdin(Stdio::null())
            .stdout(File::create(&stdout_path)?)
            .stderr(File::create(&stderr_path)?);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Orderflow {
            child: Some(child),
            addr,
            metrics_addr,
            stdout_path,
            stderr_path,
            client,
        })
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        if let Some(db) = &self.postgres {
            db.drop_blocking();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A running `orderflow serve`. Killed when dropped; [`Orderflow::terminate`] stops it
/// gracefully instead.
pub struct Orderflow {
    child: Option<Child>,
    addr: SocketAddr,
    /// ORDERFLOW_METRICS_BIND: `/metrics` for the monitoring network only.
    metrics_addr: SocketAddr,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    client: reqwest::Client,
}

impl Orderflow {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `/metrics` on the metrics-only address.
    pub async fn metrics(&self) -> anyhow::Result<reqwest::Response> {
        let url = format!("http://{}/metrics", self.metrics_addr);
        self.client
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// SIGKILL: no shutdown, whatever it was in the middle of (its jobs' leases lapse).
    pub fn kill(mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot kill orderflow")?;
            child.wait()?;
        }
        Ok(())
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// What the process wrote to stdout (its log) so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    fn output(&self) -> String {
        format!(
            "--- orderflow stderr ---\n{}\n--- orderflow stdout ---\n{}",
            self.stderr().trim_end(),
            self.stdout().trim_end()
        )
    }

    async fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                let pid = child.id();
                self.child = None;
                bail!(
                    "orderflow (pid {pid}) exited with {status} before it was ready\n{}",
                    self.output()
                );
            }
            let last = match self
                .client
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(3))
                .send()
                .await
            {
                Ok(res) if res.status().is_success() => return Ok(()),
                Ok(res) => {
                    let status = res.status();
                    format!("{status}: {}", res.text().await.unwrap_or_default())
                }
                Err(err) => err.to_string(),
            };
            if Instant::now() >= deadline {
                bail!(
                    "orderflow was not ready at {} within {timeout:?}; last /readyz answer: {last}\n{}",
                    self.url("/readyz"),
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit; its exit status.
    pub async fn terminate(mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let Some(pid) = self.pid() else {
            bail!("orderflow is not running");
        };
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .context("cannot run `kill -TERM`")?;
        ensure!(sent.success(), "`kill -TERM {pid}` failed: {sent}");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!(
                    "orderflow (pid {pid}) did not exit within {timeout:?} of SIGTERM\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// GET `path`; fails when the answer has no request id.
    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let res = self
            .client
            .get(self.url(path))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        ensure!(
            res.headers().contains_key(REQUEST_ID),
            "GET {path} answered {} without an {REQUEST_ID} header",
            res.status()
        );
        Ok(res)
    }

    /// POSTs a GraphQL request, with `Authorization: Bearer <token>` when given, and returns
    /// the body. Fails on a non-2xx answer or one without a request id; GraphQL errors are in
    /// the body for the caller to judge.
    pub async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let res = request.send().await.context("POST /graphql")?;
        let status = res.status();
        let has_request_id = res.headers().contains_key(REQUEST_ID);
        let body: Value = res
            .json()
            .await
            .with_context(|| format!("POST /graphql answered {status} without a JSON body"))?;
        ensure!(
            has_request_id,
            "POST /graphql answered {status} without an {REQUEST_ID} header: {body}"
        );
        ensure!(
            status.is_success(),
            "POST /graphql answered {status}: {body}"
        );
        Ok(body)
    }

    /// Runs `mutation`, which must answer without GraphQL errors and with no `userErrors`;
    /// returns its payload.
    pub async fn mutate(
        &self,
        token: &str,
        mutation: &str,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let body = self.graphql(Some(token), query, variables).await?;
        ensure!(body.get("errors").is_none(), "{mutation}: {body}");
        ensure!(
            body["data"][mutation]["userErrors"] == json!([]),
            "{mutation}: {body}"
        );
        Ok(body["data"][mutation].clone())
    }
}

impl Drop for Orderflow {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "orderflow at {} during the failed test:\n{}",
                self.addr,
                self.output()
            );
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running `orderflow worker`.
pub struct Worker {
    child: Option<Child>,
    stderr_path: PathBuf,
}

impl Worker {
    /// SIGKILL: no shutdown, no cleanup, whatever it was in the middle of.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("cannot kill the worker")?;
            child.wait()?;
        }
        Ok(())
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("worker during the failed test:\n{}", self.stderr());
        }
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_server_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "of_e2e_1"),
            "postgres://postgres@127.0.0.1:5432/of_e2e_1"
        );
        assert_eq!(
            with_database("postgres://u:p@db/x?sslmode=disable", "n"),
            "postgres://u:p@db/n?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://db:5432", "n"),
            "postgresql://db:5432/n"
        );
        assert_eq!(
            with_database("postgres://db?a=b", "n"),
            "postgres://db/n?a=b"
        );
    }
}
