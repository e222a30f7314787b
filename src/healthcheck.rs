//! `tessera healthcheck`: one `GET /readyz` over plain HTTP/1.1, so that the
//! container image can probe itself without carrying curl.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::config::HealthcheckArgs;

/// Succeeds if the server answers `/readyz` with 200 within the timeout.
pub async fn probe(args: &HealthcheckArgs) -> anyhow::Result<()> {
    let target = loopback_if_unspecified(args.bind);
    let timeout = args.timeout;
    let status = tokio::task::spawn_blocking(move || readyz_status(target, timeout)).await??;
    if status == 200 {
        println!("{}", serde_json::json!({ "ready": true }));
        Ok(())
    } else {
        anyhow::bail!("{target}/readyz answered {status}")
    }
}

/// `0.0.0.0:8080` (listen everywhere) is reached on `127.0.0.1:8080`.
fn loopback_if_unspecified(bind: SocketAddr) -> SocketAddr {
    match bind {
        SocketAddr::V4(a) if a.ip().is_unspecified() => (Ipv4Addr::LOCALHOST, a.port()).into(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => (Ipv6Addr::LOCALHOST, a.port()).into(),
        other => other,
    }
}

/// Blocking, with every step bounded by `timeout`: the probe is the whole
/// process, and needs no more than this.
fn readyz_status(target: SocketAddr, timeout: Duration) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    // The status line is all we need; it fits in the first read or two.
    let mut head = Vec::with_capacity(64);
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_status(&head).ok_or_else(|| anyhow::anyhow!("{target} did not answer HTTP"))
}

/// The code of an `HTTP/1.x NNN …` status line.
fn parse_status(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_read() {
        assert_eq!(
            parse_status(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n"),
            Some(200)
        );
        assert_eq!(
            parse_status(b"HTTP/1.1 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }

    #[test]
    fn an_unspecified_bind_is_probed_on_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(loopback_if_unspecified(any).to_string(), "127.0.0.1:8080");
        let some: SocketAddr = "10.0.0.5:9000".parse().expect("addr");
        assert_eq!(loopback_if_unspecified(some), some);
    }
}
