//! Black-box tests: the real server on a random port, spoken to over HTTP.

mod backend;
mod helpers;
mod jwt;

mod access_token;
mod cli;
mod client_auth;
mod cookie_flow;
mod health;
mod indexes;
mod logging;
mod multi_instance;
mod password_grant;
mod persistence;
mod protected_resource;
mod purge;
mod refresh_grant;
mod token_endpoint;
