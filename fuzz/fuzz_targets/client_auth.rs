//! Client authentication from the `Authorization` header and the body:
//! arbitrary headers, and well-formed `Basic` headers around arbitrary
//! credentials. No input may panic; decoded ids are never empty and hold
//! no NUL.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use tessera::oauth::Credentials;
use tessera::oauth::request::Params;

fuzz_target!(|data: &[u8]| {
    // First line: the header (or, base64-encoded, the credentials); rest: the body.
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (head, body) = data.split_at(split);
    let params = Params::parse(body.get(1..).unwrap_or_default()).unwrap_or_default();
    if let Ok(header) = std::str::from_utf8(head) {
        check(Credentials::from_request(Some(header), &params));
    }
    let basic = format!("Basic {}", STANDARD.encode(head));
    check(Credentials::from_request(Some(&basic), &params));
});

fn check(credentials: Result<Credentials, tessera::oauth::OAuthError>) {
    if let Ok(Credentials::Basic { client_id, secret } | Credentials::Post { client_id, secret }) =
        credentials
    {
        assert!(!client_id.is_empty());
        assert!(!client_id.contains('\0') && !secret.contains('\0'));
    }
}
