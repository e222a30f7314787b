//! One file per grant type (RFC 6749 §4.3, §4.4, §6).

mod client_credentials;
mod password;
mod refresh_token;
