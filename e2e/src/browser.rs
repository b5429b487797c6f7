//! Headless Chromium driven over WebDriver (chromedriver, fantoccini), the way a merchant meets
//! the admin UI. Each [`Browser`] has its own chromedriver on a free port and a fresh profile;
//! screenshots go to `<target>/e2e-artifacts/<test>/` for people to look at after a run.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::orderflow::free_port;

/// How long a page may take to show what a step waits for.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
    artifacts: PathBuf,
    shots: std::sync::atomic::AtomicUsize,
}

/// Where a test's screenshots go: `$E2E_ARTIFACTS`, else `<target>/e2e-artifacts`.
fn artifacts_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("E2E_ARTIFACTS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    // Test executables live in <target>/<profile>/deps/.
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()?
                .parent()?
                .parent()
                .map(|t| t.join("e2e-artifacts"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("orderflow-e2e-artifacts"))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium 1280×900; `test` names the artifacts folder.
    pub async fn start(test: &str) -> anyhow::Result<Self> {
        for tool in [CHROMEDRIVER, CHROMIUM] {
            if !std::path::Path::new(tool).exists() {
                bail!(
                    "{tool} is needed for the browser tests (.ci/run installs Debian's chromium and chromium-driver)"
                );
            }
        }
        let port = free_port()?;
        // Its own process group: Chromium's processes join it, and go with it.
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver")?;
        let profile =
            std::env::temp_dir().join(format!("orderflow-chromium-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&profile)?;
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-quic", "--no-first-run",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let caps = caps.as_object().cloned().unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => {
                    bail!("chromedriver did not start a session: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let artifacts = artifacts_root().join(test);
        // This run's screenshots only.
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts)?;
        Ok(Self {
            client,
            driver,
            profile,
            artifacts,
            shots: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// A step that failed: the page as it was goes beside the screenshots.
    async fn failed(&self, what: String) -> anyhow::Error {
        match self.screenshot("failed").await {
            Ok(path) => anyhow::anyhow!("{what} (the page: {})", path.display()),
            Err(_) => anyhow::anyhow!(what),
        }
    }

    /// The element `css` matches, once it is there.
    pub async fn wait(&self, css: &str) -> anyhow::Result<Element> {
        match self
            .client
            .wait()
            .at_most(STEP_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => Ok(e),
            Err(e) => Err(self.failed(format!("waiting for {css}: {e}")).await),
        }
    }

    /// Waits for `css` to be on the page, shown and enabled: a field inside a `<details>` that
    /// is just opening, or behind a transition, exists before a person could type into it.
    pub async fn wait_usable(&self, css: &str) -> anyhow::Result<Element> {
        let e = self.wait(css).await?;
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let shown = e.is_displayed().await.unwrap_or(false);
            let enabled = e.is_enabled().await.unwrap_or(false);
            if shown && enabled {
                return Ok(e);
            }
            if Instant::now() > deadline {
                return Err(self
                    .failed(format!("{css} never became visible and enabled"))
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the text of `css` satisfies `pred`; returns that text.
    pub async fn wait_text(
        &self,
        css: &str,
        what: &str,
        pred: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut last = String::new();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
            {
                if pred(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if Instant::now() > deadline {
                return Err(self
                    .failed(format!("{css} never showed {what}; last text: {last:?}"))
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// The first element matching `css` whose text contains `text`.
    pub async fn find_text(&self, css: &str, text: &str) -> anyhow::Result<Element> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            for e in self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
            {
                if e.text().await.is_ok_and(|t| t.contains(text)) {
                    return Ok(e);
                }
            }
            if Instant::now() > deadline {
                return Err(self
                    .failed(format!("no {css} with the text {text:?}"))
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_usable(css)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking {css}"))
    }

    /// Clicks the button (or link) whose text is `text`.
    pub async fn click_text(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.find_text(css, text)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking {text:?}"))
    }

    pub async fn fill(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let e = self.wait_usable(css).await?;
        e.clear().await?;
        e.send_keys(value)
            .await
            .with_context(|| format!("typing into {css}"))
    }

    /// Saves a screenshot as `NN-<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let n = self
            .shots
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let png = self.client.screenshot().await?;
        let path = self.artifacts.join(format!("{n:02}-{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let closed = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        closed.map_err(Into::into)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed never closed the session: end the whole group, browser included
        // (chromedriver leads its own group, and Chromium's processes are in it).
        if matches!(self.driver.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.driver.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.driver.kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
