//! What the management API sees of refresh tokens and sessions: every
//! column but the token digest, plus states judged at a given instant.

use chrono::{DateTime, Utc};
use entity::{refresh_token, session};

use crate::domain::Scope;
use crate::store::tokens::ROTATED;

/// The lifecycle state of a refresh token, as of a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Usable: neither retired nor expired.
    Active,
    /// Never retired, but past its expiry.
    Expired,
    /// Retired by a revocation (a user, an admin, a client, reuse detection).
    Revoked,
    /// Retired by rotation: a successor replaced it.
    Rotated,
}

/// A refresh token as the management API sees it: everything but its digest.
#[derive(Debug, Clone)]
pub struct RefreshTokenInfo {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub session_id: String,
    pub parent_id: Option<String>,
    pub replaced_by_id: Option<String>,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub created_by_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RefreshTokenInfo {
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        match (&self.revoked_at, self.revoked_reason.as_deref()) {
            (Some(_), Some(ROTATED)) => TokenStatus::Rotated,
            (Some(_), _) => TokenStatus::Revoked,
            (None, _) if self.expires_at <= now => TokenStatus::Expired,
            (None, _) => TokenStatus::Active,
        }
    }
}

impl From<refresh_token::Model> for RefreshTokenInfo {
    fn from(m: refresh_token::Model) -> Self {
        RefreshTokenInfo {
            id: m.id,
            user_id: m.user_id,
            client_id: m.client_id,
            session_id: m.session_id,
            parent_id: m.parent_id,
            replaced_by_id: m.replaced_by_id,
            scope: Scope::from_stored(&m.scope),
            created_at: m.created_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            revoked_reason: m.revoked_reason,
            created_by_ip: m.created_by_ip,
            user_agent: m.user_agent,
        }
    }
}

/// A session (one login) as the management API sees it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// The absolute end; rotation never extends it.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub created_by_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Whether it still holds a usable refresh token, as of the read.
    pub active: bool,
}

impl SessionInfo {
    pub(super) fn new(m: session::Model, active: bool) -> Self {
        SessionInfo {
            id: m.id,
            user_id: m.user_id,
            client_id: m.client_id,
            scope: Scope::from_stored(&m.scope),
            created_at: m.created_at,
            last_refreshed_at: m.last_refreshed_at,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            revoked_reason: m.revoked_reason,
            created_by_ip: m.created_by_ip,
            user_agent: m.user_agent,
            active,
        }
    }
}
