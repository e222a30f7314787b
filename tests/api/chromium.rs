//! A real headless Chromium for the browser tests, driven over W3C WebDriver
//! (chromedriver + fantoccini). The browser reaches 127.0.0.1 and nothing
//! else: every other host name fails to resolve and every other connection
//! goes to a dead proxy, so a page that works proves it needs no CDN.
//!
//! Without Chromium (Debian's `chromium` and `chromium-driver`) a test says
//! why and passes, unless `TESSERA_REQUIRE_BROWSER=1` (set by `.ci/run`).
//! The tests run on the SQLite binary only: they exercise pages, not storage.
//! Screenshots go to `target/screenshots/`; with `TESSERA_UPDATE_SCREENSHOTS=1`
//! the README's copies in `docs/` are rewritten too.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Generous: the machine may be busy compiling.
const WAIT: Duration = Duration::from_secs(40);

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: tempfile::TempDir,
}

/// A fresh browser, or `None` (after saying why) where the tests cannot run.
pub async fn open() -> Option<Browser> {
    if super::backend::is_postgres() {
        eprintln!("browser tests run on the SQLite binary only");
        return None;
    }
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !std::path::Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "no browser: {} missing (apt-get install chromium chromium-driver)",
            missing.join(", ")
        );
        assert!(
            std::env::var("TESSERA_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "{why}"
        );
        eprintln!("skipped: {why}");
        return None;
    }
    Some(Browser::start().await)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,800",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            // Loopback bypasses a proxy by default; the rest dies here.
            "--proxy-server=127.0.0.1:9",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let caps = caps.as_object().cloned().expect("an object");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser {
            client,
            driver,
            profile,
        }
    }

    pub async fn visit(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Waits until the element is there and its text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(el) => el.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!("{css} never showed {needle:?}; it shows {text:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a visible element matches.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await
                && el.is_displayed().await.unwrap_or(false)
            {
                return el;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout").await;
                panic!("{css} never appeared");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.wait_for(css).await;
        el.clear().await.expect("clear");
        el.send_keys(value).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.expect("click");
    }

    /// Clicks the first button whose text is `label`, within `scope` (CSS).
    pub async fn click_button(&self, scope: &str, label: &str) {
        let scope = self.wait_for(scope).await;
        let xpath = format!(".//button[normalize-space()='{label}']");
        let button = scope
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no {label} button: {e}"));
        button.click().await.expect("click");
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// Signs in through a page's sign-in bar and waits for the greeting.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.fill("#sign-in input[name=email]", email).await;
        self.fill("#sign-in input[name=password]", password).await;
        self.click("#sign-in button[type=submit]").await;
        self.wait_text("#who", email).await;
    }

    /// Saves a PNG under target/screenshots/ (and `docs/` when asked).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).expect("write screenshot");
        path
    }

    /// A screenshot the README shows, rewritten on request.
    pub async fn readme_screenshot(&self, name: &str) {
        let path = self.screenshot(name).await;
        if std::env::var("TESSERA_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
            let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
            std::fs::create_dir_all(&docs).expect("docs");
            std::fs::copy(&path, docs.join(format!("{name}.png"))).expect("copy screenshot");
        }
    }

    /// Every URL the page fetched, as the browser recorded them.
    pub async fn fetched_urls(&self) -> Vec<String> {
        let urls = self
            .eval("return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);")
            .await;
        urls.as_array()
            .expect("urls")
            .iter()
            .filter_map(|u| u.as_str().map(str::to_string))
            .collect()
    }

    /// Ends the session (and the browser), then the driver.
    pub async fn quit(mut self) {
        let client = self.client.clone();
        let _ = tokio::time::timeout(Duration::from_secs(15), client.close()).await;
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Should the browser outlive its driver, end the processes that run
        // on this test's own profile directory (ours, by their ids).
        let marker = format!("--user-data-dir={}", self.profile.path().display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline)
                .split('\0')
                .any(|a| a == marker)
            {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill();
    }
}
