//! The token service: RFC 6749's token endpoint as plain Rust, with no HTTP
//! types, so that tests and other front ends can drive it directly.

mod client_auth;
mod error;
mod grants;
mod introspection;
pub mod keys;
pub mod management;
pub mod request;
mod revocation;
mod revocation_list;
mod sync;

use chrono::{DateTime, Utc};

pub use client_auth::Credentials;
pub use error::OAuthError;
pub use introspection::{Introspection, IntrospectionRequest};
use request::Params;
pub use revocation::RevocationRequest;
pub use revocation_list::RevocationList;
pub use sync::SYNC_EVERY;

use crate::crypto::jwt::{AccessClaims, JwtCodec};
use crate::crypto::opaque;
use crate::crypto::password::PasswordHasherPool;
use crate::domain::{Client, GrantType, Scope, User};
use crate::events::EventBus;
use crate::store::{NewRefreshToken, Store};

/// Lifetimes and limits the grants apply.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub access_ttl: chrono::Duration,
    pub refresh_ttl: chrono::Duration,
    pub session_ttl: chrono::Duration,
    pub lockout_threshold: u32,
    pub lockout_duration: chrono::Duration,
}

/// Who is asking, for the audit columns; and when, so that expiry logic can
/// be tested without sleeping.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub now: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One request to the token endpoint.
pub struct TokenRequest {
    pub params: Params,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The `refresh_token` cookie, used only for cookie clients.
    pub refresh_cookie: Option<String>,
    pub context: RequestContext,
}

/// A refresh token as handed out: the only moment its value exists.
pub struct IssuedRefreshToken {
    pub value: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// A successful token response (RFC 6749 §5.1).
pub struct TokenGrant {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: Scope,
    pub refresh_token: Option<IssuedRefreshToken>,
    /// Deliver the refresh token in a cookie, not in the body.
    pub refresh_in_cookie: bool,
}

/// The session a refresh token belongs to.
struct Chain<'a> {
    user_id: &'a str,
    client_id: &'a str,
    session_id: &'a str,
    session_expires_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct TokenService {
    store: Store,
    hasher: PasswordHasherPool,
    jwt: JwtCodec,
    policy: TokenPolicy,
    events: EventBus,
    revocations: RevocationList,
    key_reload: keys::ReloadGate,
}

impl TokenService {
    pub fn new(
        store: Store,
        hasher: PasswordHasherPool,
        jwt: JwtCodec,
        policy: TokenPolicy,
    ) -> Self {
        TokenService {
            store,
            hasher,
            jwt,
            policy,
            events: EventBus::default(),
            revocations: RevocationList::default(),
            key_reload: keys::ReloadGate::default(),
        }
    }

    /// Password checks waiting for a hashing thread.
    pub fn hash_queue_depth(&self) -> usize {
        self.hasher.queued()
    }

    pub fn jwt(&self) -> &JwtCodec {
        &self.jwt
    }

    /// Token lifecycle events, for subscribers.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Sessions and users whose access tokens are refused before expiry.
    pub fn revocations(&self) -> &RevocationList {
        &self.revocations
    }

    /// Verifies an access token: signature and claims, then that neither its
    /// session nor its user has been revoked since it was issued.
    pub fn verify_access_token(&self, token: &str, now: DateTime<Utc>) -> Option<AccessClaims> {
        let claims = match self.jwt.verify(token, now) {
            Ok(claims) => claims,
            Err(e) => {
                tracing::debug!(reason = %e, "access token refused");
                return None;
            }
        };
        if self.revocations.rejects(&claims) {
            tracing::debug!("access token of a revoked session or disabled user refused");
            return None;
        }
        Some(claims)
    }

    /// Authenticates the client, then runs the grant it asked for; counts
    /// the outcome by grant type.
    pub async fn exchange(&self, request: TokenRequest) -> Result<TokenGrant, OAuthError> {
        let grant_type = crate::metrics::grant_label(request.params.get("grant_type"));
        let result = self.run_grant(request).await;
        let outcome = match &result {
            Ok(_) => "success",
            Err(e) => e.code(),
        };
        crate::metrics::get().token_request(grant_type, outcome);
        result
    }

    #[tracing::instrument(level = "debug", skip_all, fields(grant_type, client_id))]
    async fn run_grant(&self, request: TokenRequest) -> Result<TokenGrant, OAuthError> {
        let params = &request.params;
        let credentials = Credentials::from_request(request.authorization.as_deref(), params)?;
        let grant_name = params.require("grant_type")?;
        tracing::Span::current().record("grant_type", grant_name);
        let client = credentials.authenticate(&self.store).await?;
        tracing::Span::current().record("client_id", client.client_id.as_str());
        let grant = GrantType::parse(grant_name).ok_or_else(|| {
            OAuthError::UnsupportedGrantType(format!(
                "the grant type `{grant_name}` is not supported"
            ))
        })?;
        if !client.allows(grant) {
            return Err(OAuthError::UnauthorizedClient(format!(
                "this client may not use the `{}` grant",
                grant.as_str()
            )));
        }
        match grant {
            GrantType::Password => self.password_grant(&client, &request).await,
            GrantType::RefreshToken => self.refresh_token_grant(&client, &request).await,
            GrantType::ClientCredentials => self.client_credentials_grant(&client, &request).await,
        }
    }

    /// The scope a request gets: the one asked for, if the client may have
    /// it; else all the client may have (RFC 6749 §3.3).
    fn requested_scope(params: &Params, allowed: &Scope) -> Result<Scope, OAuthError> {
        let Some(raw) = params.get("scope") else {
            return Ok(allowed.clone());
        };
        let scope = Scope::parse(raw).map_err(OAuthError::InvalidScope)?;
        if scope.is_subset_of(allowed) {
            Ok(scope)
        } else {
            Err(OAuthError::InvalidScope(
                "the requested scope exceeds what this client may be granted".into(),
            ))
        }
    }

    /// Signs an access token for a user within a session.
    fn user_access_token(
        &self,
        user: &User,
        client: &Client,
        scope: &Scope,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, OAuthError> {
        self.sign(AccessClaims {
            iss: self.jwt.issuer().to_string(),
            sub: user.id.clone(),
            aud: self.jwt.audience().to_string(),
            exp: (now + self.policy.access_ttl).timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().to_string(),
            client_id: client.client_id.clone(),
            scope: scope.to_string(),
            sid: Some(session_id.to_string()),
            email: Some(user.email.clone()),
            roles: Some(user.roles.clone()),
        })
    }

    fn sign(&self, claims: AccessClaims) -> Result<String, OAuthError> {
        self.jwt
            .sign(&claims)
            .map_err(|e| OAuthError::ServerError(e.to_string()))
    }

    /// A new refresh token in a session: the value to hand out, and the row
    /// to store (which holds only its digest). It lives `refresh_ttl`, but
    /// never past the end of its session.
    fn new_refresh_token(
        &self,
        chain: &Chain<'_>,
        parent_id: Option<String>,
        scope: &Scope,
        context: &RequestContext,
    ) -> (IssuedRefreshToken, NewRefreshToken) {
        let value = opaque::generate();
        let expires_at = (context.now + self.policy.refresh_ttl).min(chain.session_expires_at);
        let row = NewRefreshToken {
            id: uuid::Uuid::now_v7().to_string(),
            token_hash: opaque::digest(&value),
            user_id: chain.user_id.to_string(),
            client_id: chain.client_id.to_string(),
            session_id: chain.session_id.to_string(),
            parent_id,
            scope: scope.clone(),
            expires_at,
            created_by_ip: context.ip.clone(),
            user_agent: context.user_agent.clone(),
        };
        let issued = IssuedRefreshToken {
            value,
            expires_in: (expires_at - context.now).num_seconds().max(0),
        };
        (issued, row)
    }

    fn access_expires_in(&self) -> i64 {
        self.policy.access_ttl.num_seconds()
    }
}
