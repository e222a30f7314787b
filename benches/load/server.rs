//! The `tessera` process under test: found, started, polled until ready,
//! stopped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use tokio::runtime::Runtime;

use crate::config::Config;
use crate::driver::http_client;
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// The server binary: given, or the one cargo built next to this bench
/// (`cargo bench` builds the package's binaries in the same profile).
pub fn locate_server(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = given {
        candidates.push(p);
    } else {
        if let Some(p) = option_env!("CARGO_BIN_EXE_tessera") {
            candidates.push(PathBuf::from(p));
        }
        // target/release/deps/load-<hash> -> target/release/tessera
        if let Ok(exe) = std::env::current_exe()
            && let Some(profile_dir) = exe.parent().and_then(Path::parent)
        {
            candidates.push(profile_dir.join("tessera"));
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"));
        candidates.push(target.join("release").join("tessera"));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "the server binary was not found (looked at {}); run `cargo build --release` first, \
                 or name it with --server-bin / TESSERA_BENCH_BIN",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

pub struct LogTail {
    pub lines: Mutex<VecDeque<String>>,
    pub warnings: AtomicU64,
}

impl LogTail {
    pub fn warnings(&self) -> u64 {
        self.warnings.load(Ordering::Relaxed)
    }

    pub fn tail(&self) -> String {
        let lines = self.lines.lock().expect("log tail lock");
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<LogTail>,
    pub spawned: Instant,
    pub listening_after: Duration,
}

impl Server {
    /// Spawns `tessera serve` on a free port and waits for its
    /// `listening on http://ADDR` line.
    pub fn start(bin: &Path, database_url: &str, config: &Config) -> anyhow::Result<Server> {
        let spawned = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(["--database-url", database_url])
            .args(["--access-token-ttl", "1h"])
            .args(&config.server_args)
            .env("TESSERA_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", &config.server_log)
            // The HTTP ceiling's route (an older binary ignores it).
            .env("TESSERA_BENCH_ROUTE", "true")
            .envs(config.server_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(LogTail {
            lines: Mutex::new(VecDeque::new()),
            warnings: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("listening on http://").nth(1)
                        && let Some(tx) = tx.take()
                    {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                        let _ = tx.send(addr);
                    }
                    if line.contains(" WARN ") || line.contains(" ERROR ") {
                        log.warnings.fetch_add(1, Ordering::Relaxed);
                    }
                    let mut lines = log.lines.lock().expect("log tail lock");
                    if lines.len() == 40 {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.kill();
                let status = child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        "did not log `listening on http://…` within 60 s"
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        "exited before it logged `listening on http://…`"
                    }
                };
                bail!("the server {why} ({status}); its log:\n{}", log.tail());
            }
        };
        let addr: SocketAddr = addr
            .parse()
            .with_context(|| format!("the server logged an unreadable address `{addr}`"))?;
        Ok(Server {
            child,
            addr,
            log,
            spawned,
            listening_after: spawned.elapsed(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `/readyz` until it answers 200; returns the time since spawn.
    pub fn ready(&mut self, rt: &Runtime) -> anyhow::Result<Duration> {
        let url = format!("http://{}/readyz", self.addr);
        let http = http_client()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        rt.block_on(async {
            loop {
                if let Ok(resp) = http.get(&url).send().await
                    && resp.status() == 200
                {
                    return Ok(self.spawned.elapsed());
                }
                if Instant::now() > deadline {
                    bail!("/readyz did not answer 200 within 30 s");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if self.exited().is_some() {
            return Ok(());
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("load: the server ignored SIGTERM for 10 s; killing it");
        self.child.kill().context("killing the server")?;
        self.child.wait().context("waiting for the server")?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
