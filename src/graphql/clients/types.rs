//! The `Client` type (never its secret or the secret's hash) and the input
//! to create one.

use async_graphql::{Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::{self, Client};

/// An OAuth 2.0 grant type (RFC 6749 §4.3, §4.4, §6).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum GrantType {
    Password,
    RefreshToken,
    ClientCredentials,
}

impl From<GrantType> for domain::GrantType {
    fn from(g: GrantType) -> Self {
        match g {
            GrantType::Password => domain::GrantType::Password,
            GrantType::RefreshToken => domain::GrantType::RefreshToken,
            GrantType::ClientCredentials => domain::GrantType::ClientCredentials,
        }
    }
}

impl From<domain::GrantType> for GrantType {
    fn from(g: domain::GrantType) -> Self {
        match g {
            domain::GrantType::Password => GrantType::Password,
            domain::GrantType::RefreshToken => GrantType::RefreshToken,
            domain::GrantType::ClientCredentials => GrantType::ClientCredentials,
        }
    }
}

pub struct ClientNode(pub Client);

#[Object(name = "Client")]
impl ClientNode {
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// A public client has no secret (a browser or CLI app).
    async fn public(&self) -> bool {
        self.0.public
    }

    async fn grant_types(&self) -> Vec<GrantType> {
        self.0.grant_types.iter().copied().map(Into::into).collect()
    }

    /// The scopes it may ask for.
    async fn scopes(&self) -> Vec<String> {
        self.0.scopes.iter().map(str::to_string).collect()
    }

    /// Refresh tokens travel in an HttpOnly cookie instead of the JSON body.
    async fn refresh_cookie(&self) -> bool {
        self.0.refresh_cookie
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A client just created.
#[derive(SimpleObject)]
pub struct CreatedClient {
    pub client: ClientNode,
    /// The secret, shown this once and never again (only its digest is
    /// stored); `null` for a public client.
    pub client_secret: Option<String>,
}

/// A new client. Defaults as in `tessera client create`.
#[derive(InputObject)]
pub struct CreateClientInput {
    pub client_id: String,
    /// A public client has no secret.
    #[graphql(default)]
    pub public: bool,
    /// At least 32 characters; generated when omitted.
    pub secret: Option<String>,
    /// Default: `PASSWORD`, `REFRESH_TOKEN`.
    pub grant_types: Option<Vec<GrantType>>,
    #[graphql(default)]
    pub scopes: Vec<String>,
    #[graphql(default)]
    pub refresh_cookie: bool,
}
