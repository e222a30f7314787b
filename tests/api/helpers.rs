//! Test harness: every test starts the real `tessera` binary on a random port
//! with a fresh database (SQLite in its own temporary folder, or PostgreSQL:
//! see `backend.rs`), and talks to it over HTTP like any client would.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

pub const ADMIN_EMAIL: &str = "admin@localhost";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";
/// The public client that `serve` bootstraps on an empty database.
pub const CLI_CLIENT: &str = "tessera-cli";

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// A running Tessera server plus everything a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub http: reqwest::Client,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    // Dropped after the server is stopped (fields drop in order).
    _pg: Option<Arc<super::backend::PgDatabase>>,
    _dir: Arc<tempfile::TempDir>,
}

/// Starts a server with default settings (`--cookie-secure false` so that
/// cookie tests work over plain HTTP).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server with extra `serve` flags, e.g. `&["--access-token-ttl", "1s"]`.
pub async fn spawn_app_with(extra_args: &[&str]) -> TestApp {
    spawn_app_with_env(extra_args, &[]).await
}

/// Starts a server with extra `serve` flags and extra environment variables.
pub async fn spawn_app_with_env(extra_args: &[&str], envs: &[(&str, &str)]) -> TestApp {
    let mut args = vec!["--cookie-secure", "false"];
    args.extend_from_slice(extra_args);
    spawn(&args, envs)
}

/// Starts a server without the harness's `--cookie-secure false`, so that the
/// server's own cookie default applies.
pub async fn spawn_app_with_default_cookie_security(extra_args: &[&str]) -> TestApp {
    spawn(extra_args, &[])
}

fn spawn(args: &[&str], envs: &[(&str, &str)]) -> TestApp {
    spawn_via(args, envs, |url| url.to_string())
}

/// Starts a server that reaches its (fresh) database through `route`, a
/// rewrite of the database URL: e.g. through a proxy that a test can cut.
/// `database_url` stays the direct one, for the CLI and for checks.
pub async fn spawn_app_routed(extra_args: &[&str], route: impl Fn(&str) -> String) -> TestApp {
    let mut args = vec!["--cookie-secure", "false"];
    args.extend_from_slice(extra_args);
    spawn_via(&args, &[], route)
}

fn spawn_via(args: &[&str], envs: &[(&str, &str)], route: impl Fn(&str) -> String) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (database_url, pg) = super::backend::fresh_database(dir.path());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (child, address) = start(&route(&database_url), &args, &envs, &logs);
    TestApp {
        address,
        database_url,
        http: client(),
        args,
        envs,
        child,
        logs,
        _pg: pg.map(Arc::new),
        _dir: Arc::new(dir),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

fn start(
    database_url: &str,
    args: &[String],
    envs: &[(String, String)],
    logs: &Arc<Mutex<Vec<String>>>,
) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .arg("--database-url")
        .arg(database_url)
        .arg("--bind")
        .arg("127.0.0.1:0")
        .args(args)
        .env_remove("TESSERA_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("TESSERA_COOKIE_SECURE")
        .env("TESSERA_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env(
            "RUST_LOG",
            "debug,sqlx=warn,sea_orm=warn,hyper=info,h2=info",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start tessera");
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let logs = Arc::clone(logs);
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    // Text (`… http://ADDR`) or JSON (`…http://ADDR","target":…`).
                    let addr: String = rest
                        .chars()
                        .take_while(|c| !c.is_whitespace() && *c != '"')
                        .collect();
                    let _ = tx.send(addr);
                }
                logs.lock().expect("logs lock").push(line);
            }
        });
    }
    // Wait for the address, but give up early if the server exits.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(addr) => return (child, format!("http://{addr}")),
            Err(mpsc::RecvTimeoutError::Timeout)
                if std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) => {
            }
            Err(_) => {
                let _ = child.kill();
                // Let the reader threads catch the last lines.
                std::thread::sleep(Duration::from_millis(200));
                let logs = logs.lock().expect("logs lock").join("\n");
                panic!("tessera did not start listening; output:\n{logs}");
            }
        }
    }
}

impl TestApp {
    /// Starts another instance on this one's database, with the same flags:
    /// the way Tessera scales out.
    pub async fn spawn_peer(&self) -> TestApp {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (child, address) = start(&self.database_url, &self.args, &self.envs, &logs);
        TestApp {
            address,
            database_url: self.database_url.clone(),
            http: client(),
            args: self.args.clone(),
            envs: self.envs.clone(),
            child,
            logs,
            _pg: self._pg.clone(),
            _dir: Arc::clone(&self._dir),
        }
    }

    /// The server's process id, to read its resource use from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs lock").join("\n")
    }

    /// Sends SIGTERM and returns at once (the server drains and exits).
    pub fn send_sigterm(&self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    /// Stops the server the way an operator does (SIGTERM) and waits up to
    /// 10 s for it to exit; `true` if it exited with success.
    pub fn stop_gracefully(&mut self) -> bool {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        false
    }

    /// Stops the server (SIGKILL) and starts it again on the same database.
    /// The address changes.
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, address) = start(&self.database_url, &self.args, &self.envs, &self.logs);
        self.child = child;
        self.address = address;
    }

    /// Runs a `tessera` command against this server's database and parses the
    /// one JSON object it prints. Panics if the command fails.
    pub fn cli(&self, args: &[&str]) -> Value {
        let out = self.cli_raw(args);
        assert!(
            out.status.success(),
            "tessera {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tessera {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs a `tessera` command against this server's database, returning its raw output.
    pub fn cli_raw(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .arg("--database-url")
            .arg(&self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .expect("run tessera")
    }

    /// Creates a user through the CLI; returns its id.
    pub fn create_user(&self, email: &str, password: &str) -> String {
        let v = self.cli(&["user", "create", "--email", email, "--password", password]);
        v["id"].as_str().expect("id").to_string()
    }

    /// Creates a confidential client with a generated secret and the given
    /// extra flags; returns (client_id, client_secret).
    pub fn create_confidential_client(&self, client_id: &str, extra: &[&str]) -> (String, String) {
        let mut args = vec!["client", "create", "--client-id", client_id];
        args.extend_from_slice(extra);
        let v = self.cli(&args);
        (
            v["client_id"].as_str().expect("client_id").to_string(),
            v["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_string(),
        )
    }

    /// Creates a public client with the given extra flags.
    pub fn create_public_client(&self, client_id: &str, extra: &[&str]) {
        let mut args = vec!["client", "create", "--client-id", client_id, "--public"];
        args.extend_from_slice(extra);
        let v = self.cli(&args);
        assert!(v["client_secret"].is_null());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// POSTs a form to `/oauth/token` (no client authentication header).
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.post_form("/oauth/token", form).await
    }

    /// POSTs a form to `/oauth/token` with HTTP Basic client authentication.
    pub async fn token_basic(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// POSTs a url-encoded form to any path.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Password grant with the bootstrapped public client `tessera-cli`;
    /// returns the parsed JSON body and asserts a 200.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self
            .token(&[
                ("grant_type", "password"),
                ("client_id", CLI_CLIENT),
                ("username", email),
                ("password", password),
            ])
            .await;
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, 200, "login failed: {body}");
        body
    }

    /// Password grant with the bootstrapped public client `tessera-cli` plus
    /// extra form fields (e.g. `scope`); returns the raw response.
    pub async fn password_grant(
        &self,
        email: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "password"),
            ("client_id", CLI_CLIENT),
            ("username", email),
            ("password", password),
        ];
        form.extend_from_slice(extra);
        self.token(&form).await
    }

    /// POSTs an arbitrary body to any path, with the given `Content-Type`
    /// (none when `None`).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct);
        }
        req.send().await.expect("request")
    }

    /// `GET` any path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// Runs a `tessera` command against this server's database with `input`
    /// on its stdin, returning its raw output.
    pub fn cli_stdin(&self, args: &[&str], input: &str) -> std::process::Output {
        let mut child = Command::new(BIN)
            .args(args)
            .arg("--database-url")
            .arg(&self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tessera");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write stdin");
        drop(stdin);
        child.wait_with_output().expect("run tessera")
    }

    /// Refresh grant with the bootstrapped public client; returns the raw response.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLI_CLIENT),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// `GET /api/me` with a bearer token.
    pub async fn me(&self, access_token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/api/me"))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("request")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
pub fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Asserts the RFC 6749 §5.1 cache headers that every token endpoint response carries.
pub fn assert_no_store(res: &reqwest::Response) {
    let headers = res.headers();
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "Cache-Control on a {} response",
        res.status()
    );
    assert_eq!(
        headers.get("pragma").and_then(|v| v.to_str().ok()),
        Some("no-cache"),
        "Pragma on a {} response",
        res.status()
    );
}

/// Asserts an `application/json` body; returns the parsed JSON.
pub async fn json_body(res: reqwest::Response) -> Value {
    let status = res.status();
    let content_type = header(&res, "content-type").unwrap_or_default();
    let text = res.text().await.expect("body");
    assert!(
        content_type.starts_with("application/json"),
        "expected application/json, got {content_type:?} (status {status}): {text}"
    );
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}) in a {status} response: {text}"))
}

/// Asserts a successful token response (200, JSON, no-store); returns its body.
pub async fn token_success(res: reqwest::Response) -> Value {
    let status = res.status();
    assert_no_store(&res);
    let body = json_body(res).await;
    assert_eq!(status, 200, "expected a token, got: {body}");
    body
}

/// Asserts an RFC 6749 §5.2 error response: the status, `application/json`
/// `{"error", "error_description"}` with the given code, and the cache
/// headers. Returns the body.
pub async fn assert_oauth_error(res: reqwest::Response, status: u16, error: &str) -> Value {
    let actual = res.status();
    assert_no_store(&res);
    let body = json_body(res).await;
    assert_eq!(actual, status, "unexpected status; body: {body}");
    assert_eq!(body["error"], error, "unexpected error code; body: {body}");
    assert!(
        body["error_description"].is_string(),
        "error_description must be a string: {body}"
    );
    body
}

/// A header's value as a string, if present and visible ASCII.
pub fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A space-separated scope string as a set (scope order carries no meaning).
pub fn scopes(scope: &Value) -> BTreeSet<String> {
    scope
        .as_str()
        .unwrap_or_else(|| panic!("scope must be a string, got {scope}"))
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The set of the given scope names.
pub fn scope_set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The string field `key` of a JSON object.
pub fn str_field<'a>(body: &'a Value, key: &str) -> &'a str {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} must be a string in {body}"))
}
