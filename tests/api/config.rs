//! Bad settings stop `serve` before it starts: one clear line on stderr, a
//! non-zero exit, never a panic or a backtrace.

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn serve_with(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .args(["--database-url", "sqlite::memory:", "--bind", "127.0.0.1:0"])
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tessera");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_refused(args: &[&str], envs: &[(&str, &str)], mentions: &str) {
    let (code, stderr) = serve_with(args, envs);
    assert_ne!(code, 0, "{args:?} {envs:?} was accepted");
    assert_eq!(stderr.trim().lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.contains(mentions), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_duration_with_an_unknown_unit_is_refused_in_one_line() {
    assert_refused(&["--access-token-ttl", "5y"], &[], "access-token-ttl");
}

#[test]
fn a_zero_duration_is_refused() {
    assert_refused(&["--session-ttl", "0s"], &[], "session-ttl");
}

#[test]
fn a_bad_value_from_the_environment_is_refused() {
    assert_refused(
        &[],
        &[("TESSERA_LOCKOUT_THRESHOLD", "0")],
        "lockout-threshold",
    );
    assert_refused(&[], &[("TESSERA_COOKIE_SECURE", "maybe")], "cookie-secure");
}

#[test]
fn a_flag_wins_over_its_environment_variable() {
    // The environment's bad value is never read when the flag is given.
    let (code, stderr) = serve_with(
        &["--lockout-threshold", "0"],
        &[("TESSERA_LOCKOUT_THRESHOLD", "5")],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("lockout-threshold"), "{stderr}");
}

#[test]
fn an_issuer_that_is_not_an_http_url_is_refused() {
    assert_refused(&["--issuer", "ftp://example.com"], &[], "--issuer");
}

#[test]
fn an_unreachable_database_is_one_clear_error() {
    let (code, stderr) = serve_with(
        &["--database-url", "postgres://nobody@127.0.0.1:1/none"],
        &[],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("error"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unknown_log_format_is_refused() {
    assert_refused(&["--log-format", "xml"], &[], "log-format");
    assert_refused(&[], &[("TESSERA_LOG_FORMAT", "yaml")], "log-format");
}

#[test]
fn check_config_accepts_good_settings_and_serves_nothing() {
    let out = Command::new(BIN)
        .args(["serve", "--check-config", "--bind", "127.0.0.1:1"])
        .env(
            "TESSERA_DATABASE_URL",
            "postgres://nobody@unreachable.invalid/none",
        )
        .env("TESSERA_SHUTDOWN_TIMEOUT", "20s")
        .stdin(Stdio::null())
        .output()
        .expect("run tessera");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"config":"ok"}"#
    );
}

#[test]
fn check_config_refuses_bad_settings() {
    assert_refused(
        &["--check-config", "--shutdown-timeout", "soon"],
        &[],
        "shutdown-timeout",
    );
}

#[test]
fn an_unknown_synchronous_mode_or_zero_hashing_threads_is_refused() {
    assert_refused(&["--sqlite-synchronous", "off"], &[], "sqlite-synchronous");
    assert_refused(
        &["--password-hash-threads", "0"],
        &[],
        "password-hash-threads",
    );
}
