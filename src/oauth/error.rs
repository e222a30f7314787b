//! The errors of RFC 6749 §5.2, as one closed type. The HTTP layer turns
//! them into `{"error", "error_description"}` responses.

use crate::crypto::password::HashError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The request is missing a required parameter, includes an unsupported
    /// parameter value, repeats a parameter, includes multiple credentials or
    /// is otherwise malformed.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Client authentication failed (unknown client, no client
    /// authentication included, or unsupported authentication method).
    /// `basic` says whether HTTP Basic was tried (the answer then carries
    /// `WWW-Authenticate`).
    #[error("invalid_client: {description}")]
    InvalidClient { description: String, basic: bool },
    /// The grant or refresh token is invalid, expired, revoked, does not match
    /// the redirection URI, or was issued to another client.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// The authenticated client is not authorized to use this grant type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// The authorization grant type is not supported by the server.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// The requested scope is invalid, unknown, malformed, or exceeds the
    /// scope granted by the resource owner.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// RFC 6749 §4.1.2.1: the server is temporarily unable to handle the
    /// request (here: the database is unreachable or busy).
    #[error("temporarily_unavailable")]
    TemporarilyUnavailable,
    /// An unexpected condition; details are logged, never sent.
    #[error("server_error: {0}")]
    ServerError(String),
}

impl OAuthError {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient { .. } => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthError::ServerError(_) => "server_error",
        }
    }

    /// The human-readable `error_description`: safe to show to anyone.
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::UnauthorizedClient(d)
            | OAuthError::UnsupportedGrantType(d)
            | OAuthError::InvalidScope(d) => d.clone(),
            OAuthError::InvalidClient { description, .. } => description.clone(),
            OAuthError::TemporarilyUnavailable => {
                "the server is temporarily unable to handle the request; try again".into()
            }
            OAuthError::ServerError(_) => "the server met an unexpected condition".into(),
        }
    }

    pub fn invalid_client(basic: bool) -> Self {
        OAuthError::InvalidClient {
            description: "client authentication failed".into(),
            basic,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => OAuthError::TemporarilyUnavailable,
            other => OAuthError::ServerError(other.to_string()),
        }
    }
}

impl From<HashError> for OAuthError {
    fn from(e: HashError) -> Self {
        match e {
            // Too many logins at once: back off and retry, like a busy database.
            HashError::Busy => OAuthError::TemporarilyUnavailable,
            HashError::Failed(detail) => OAuthError::ServerError(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_logins_at_once_is_a_retryable_error() {
        assert!(matches!(
            OAuthError::from(HashError::Busy),
            OAuthError::TemporarilyUnavailable
        ));
    }
}
