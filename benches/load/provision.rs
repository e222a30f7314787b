//! Users and clients, created through the server's own CLI.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use reqwest::header::HeaderValue;
use serde_json::Value as Json;

use crate::SERVICE_CLIENT;

pub struct User {
    pub id: String,
    pub email: String,
    pub password: String,
}

pub fn cli(
    bin: &Path,
    database_url: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> anyhow::Result<Json> {
    let mut child = Command::new(bin)
        .args(args)
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running tessera {}", args.join(" ")))?;
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .context("writing to the CLI's stdin")?;
    }
    let out = child.wait_with_output().context("waiting for the CLI")?;
    if !out.status.success() {
        bail!(
            "tessera {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .with_context(|| format!("tessera {} printed `{line}`, not JSON", args.join(" ")))
}

/// `tessera user create` for each user, two processes at a time.
pub fn create_users(bin: &Path, database_url: &str, count: usize) -> anyhow::Result<Vec<User>> {
    let next = AtomicUsize::new(0);
    let made = Mutex::new(Vec::with_capacity(count));
    let parallel = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..parallel)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(());
                        }
                        let email = format!("bench-user-{i:04}@example.com");
                        let password = format!("bench-password-{i:04}");
                        let out = cli(
                            bin,
                            database_url,
                            &["user", "create", "--email", &email, "--password-stdin"],
                            Some(&format!("{password}\n")),
                        )?;
                        let id = out["id"]
                            .as_str()
                            .ok_or_else(|| anyhow!("user create printed no id: {out}"))?
                            .to_string();
                        made.lock().expect("users lock").push((
                            i,
                            User {
                                id,
                                email,
                                password,
                            },
                        ));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow!("a provisioning thread panicked"))??;
        }
        Ok(())
    })?;
    let mut made = made.into_inner().expect("users lock");
    made.sort_by_key(|(i, _)| *i);
    Ok(made.into_iter().map(|(_, u)| u).collect())
}

/// A confidential client for client_credentials and introspection; returns its secret.
pub fn create_service_client(bin: &Path, database_url: &str) -> anyhow::Result<String> {
    let out = cli(
        bin,
        database_url,
        &[
            "client",
            "create",
            "--client-id",
            SERVICE_CLIENT,
            "--grant-type",
            "client_credentials",
            "--scope",
            "bench:read",
        ],
        None,
    )?;
    out["client_secret"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("client create printed no secret: {out}"))
}

pub fn basic_auth(id: &str, secret: &str) -> HeaderValue {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(id), encode(secret));
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    HeaderValue::from_str(&value).expect("base64 is a valid header value")
}
