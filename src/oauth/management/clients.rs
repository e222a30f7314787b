//! Registering a client: the one set of rules, shared by `tessera client
//! create` and the `createClient` mutation.

use chrono::{DateTime, Utc};

use super::ManagementError;
use crate::crypto::opaque;
use crate::domain::{Client, GrantType, Scope};
use crate::store::{NewClient, Store};

/// Shortest secret accepted when the caller picks one.
pub const MIN_SECRET_CHARS: usize = 32;

/// What a new client should be.
#[derive(Debug, Default)]
pub struct ClientSpec {
    pub client_id: String,
    /// A public client has no secret (a browser or CLI app).
    pub public: bool,
    /// The secret of a confidential client; generated when `None`.
    pub secret: Option<String>,
    /// Empty means `password` and `refresh_token`.
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub refresh_cookie: bool,
}

/// A client just made, with its secret: the only time the secret exists
/// outside the client's hands (only its digest is stored).
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<String>,
}

/// Checks the spec, then stores the client with the digest of its secret.
#[tracing::instrument(level = "debug", skip_all, err)]
pub async fn create_client(
    store: &Store,
    spec: ClientSpec,
    now: DateTime<Utc>,
) -> Result<CreatedClient, ManagementError> {
    let invalid = |m: &str| ManagementError::InvalidInput(m.to_string());
    let client_id = spec.client_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 128 || client_id.chars().any(char::is_control) {
        return Err(invalid(
            "the client id must be 1 to 128 printable characters",
        ));
    }
    let mut grant_types = spec.grant_types;
    if grant_types.is_empty() {
        grant_types = vec![GrantType::Password, GrantType::RefreshToken];
    }
    grant_types.dedup();
    if spec.public && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(invalid(
            "a public client cannot use the client_credentials grant",
        ));
    }
    let scopes = Scope::parse(&spec.scopes.join(" ")).map_err(ManagementError::InvalidInput)?;
    let secret = match (spec.public, spec.secret) {
        (true, Some(_)) => return Err(invalid("a public client has no secret")),
        (true, None) => None,
        (false, Some(s)) if s.chars().count() < MIN_SECRET_CHARS => {
            return Err(ManagementError::InvalidInput(format!(
                "the secret must have at least {MIN_SECRET_CHARS} characters"
            )));
        }
        (false, Some(s)) => Some(s),
        (false, None) => Some(opaque::generate()),
    };
    let client = store
        .insert_client(
            NewClient {
                client_id,
                secret_hash: secret.as_deref().map(opaque::digest),
                grant_types,
                scopes,
                refresh_cookie: spec.refresh_cookie,
            },
            now,
        )
        .await?;
    Ok(CreatedClient { client, secret })
}
