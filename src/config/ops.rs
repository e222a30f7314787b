//! The operator's settings of `serve`: log format, where `/metrics` is
//! served, how long a stop may take, and a dry run that checks the rest.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::parse_duration;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct OpsArgs {
    /// Log line format.
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Serve `GET /metrics` on this address instead of the main one (keeps
    /// metrics off a public port) [default: on the main address]
    #[arg(long, env = "TESSERA_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// At SIGTERM, how long requests in flight may take to finish.
    #[arg(long, env = "TESSERA_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,
    /// Check the settings (flags and environment) and exit: prints
    /// `{"config":"ok"}`, or the one-line error. Connects to nothing, so
    /// that a deployment's settings can be checked anywhere.
    #[arg(long)]
    pub check_config: bool,
}

/// The resolved operator settings.
#[derive(Debug, Clone, Copy)]
pub struct Ops {
    pub log_format: LogFormat,
    pub metrics_bind: Option<SocketAddr>,
    pub shutdown_timeout: Duration,
}

impl From<&OpsArgs> for Ops {
    fn from(args: &OpsArgs) -> Self {
        Ops {
            log_format: args.log_format,
            metrics_bind: args.metrics_bind,
            shutdown_timeout: args.shutdown_timeout,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The server's address, as given to `serve` (an unspecified address
    /// such as 0.0.0.0 is probed on loopback).
    #[arg(long, env = "TESSERA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// How long the probe may take.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,
}
