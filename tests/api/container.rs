//! The container files: the settings in `deploy/tessera.env` (used by
//! `compose.yaml`) and the `Dockerfile`'s `ENV` are ones `serve` accepts,
//! the image's health probe works, and the image builds where a Docker
//! engine runs (elsewhere that test says it skipped).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::spawn_app;

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `KEY=VALUE` lines; `#` comments and blank lines skipped.
fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not KEY=VALUE: {l}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The `KEY=VALUE` pairs of the Dockerfile's `ENV` instructions
/// (continued lines included).
fn dockerfile_env(text: &str) -> Vec<(String, String)> {
    let joined = text.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENV "))
        .flat_map(|rest| rest.split_whitespace())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("ENV without =: {pair}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// `tessera serve --check-config` with exactly `envs` as its TESSERA_* settings.
fn check_config(envs: &[(String, String)]) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--check-config"]).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("TESSERA_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(envs.iter().map(|(k, v)| (k, v)));
    let out = cmd.output().expect("run tessera");
    assert!(
        out.status.success(),
        "{envs:?} refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"config":"ok"}"#
    );
}

#[test]
fn the_compose_files_settings_are_accepted_by_serve() {
    let compose = repo_file("compose.yaml");
    // Both instances (one through a YAML anchor) and the migration job.
    assert!(compose.contains("tessera-1: &tessera"), "{compose}");
    assert!(compose.contains("tessera-2: *tessera"), "{compose}");
    assert_eq!(compose.matches("env_file: deploy/tessera.env").count(), 2);
    let envs = env_file(&repo_file("deploy/tessera.env"));
    assert!(
        envs.iter()
            .any(|(k, v)| k == "TESSERA_DATABASE_URL" && v.starts_with("postgres://"))
    );
    assert!(
        envs.iter().any(|(k, _)| k == "TESSERA_ISSUER"),
        "one issuer for all instances"
    );
    check_config(&envs);
}

#[test]
fn the_dockerfiles_settings_are_accepted_and_it_runs_unprivileged_with_a_healthcheck() {
    let dockerfile = repo_file("Dockerfile");
    let envs = dockerfile_env(&dockerfile);
    assert!(
        envs.iter().any(|(k, _)| k == "TESSERA_DATABASE_URL"),
        "{envs:?}"
    );
    check_config(&envs);
    assert!(dockerfile.contains("USER 65532"), "not a non-root user");
    assert!(dockerfile.contains(r#"CMD ["/usr/local/bin/tessera", "healthcheck"]"#));
    assert!(dockerfile.contains(r#"VOLUME ["/var/lib/tessera"]"#));
    assert!(dockerfile.matches("\nFROM ").count() >= 1 && dockerfile.starts_with("# syntax"));
}

#[tokio::test]
async fn healthcheck_succeeds_on_a_ready_server_and_fails_on_a_closed_port() {
    let app = spawn_app().await;
    let bind = app.address.trim_start_matches("http://").to_string();
    let ok = Command::new(BIN)
        .args(["healthcheck", "--bind", &bind])
        .output()
        .expect("run tessera");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let refused = Command::new(BIN)
        .args(["healthcheck", "--bind", &closed, "--timeout", "2s"])
        .output()
        .expect("run tessera");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn the_image_builds_where_a_docker_engine_runs() {
    if crate::backend::is_postgres() {
        return; // Once is enough: the SQLite binary does it.
    }
    let engine = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(engine, Ok(s) if s.success()) {
        eprintln!(
            "skipped: no Docker engine answers here (`docker info` failed); the image is not built"
        );
        return;
    }
    let built = Command::new("docker")
        .args(["build", "--tag", "tessera:test", env!("CARGO_MANIFEST_DIR")])
        .status()
        .expect("run docker build");
    assert!(built.success(), "docker build failed");
}
