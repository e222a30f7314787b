//! The token endpoint's form parser and what is read from it before any
//! database call: client credentials from the body, the grant type, the
//! scope. No input may panic; what parses holds no NUL (the edge's promise
//! to the store) and a repeated parameter never parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera::domain::{GrantType, Scope};
use tessera::oauth::Credentials;
use tessera::oauth::request::Params;

const NAMES: [&str; 8] = [
    "grant_type",
    "client_id",
    "client_secret",
    "username",
    "password",
    "scope",
    "refresh_token",
    "token",
];

fuzz_target!(|body: &[u8]| {
    let Ok(params) = Params::parse(body) else {
        return;
    };
    for name in NAMES {
        if let Some(value) = params.get(name) {
            assert!(!value.contains('\0'), "a NUL got through in {name}");
        }
    }
    let _ = Credentials::from_request(None, &params);
    if let Some(grant) = params.get("grant_type") {
        let _ = GrantType::parse(grant);
    }
    if let Some(scope) = params.get("scope")
        && let Ok(parsed) = Scope::parse(scope)
    {
        // What we print, we read back the same.
        assert_eq!(Scope::parse(&parsed.to_string()), Ok(parsed));
    }
});
