//! The one mapping from failures to GraphQL errors: a human message plus
//! `extensions.code`. Internal failures are logged (inside the request's
//! span, which carries its id) and surface only as a generic message; the
//! HTTP layer adds the request id to them so that a report can be matched
//! with the log.

use async_graphql::ErrorExtensions;

use crate::oauth::management::ManagementError;
use crate::store::StoreError;

/// `extensions.code` of an internal failure.
pub const INTERNAL: &str = "INTERNAL_SERVER_ERROR";

/// Everything a resolver can fail with. Deliberately not `Display`: the
/// only way to a GraphQL error is the mapping below, so no database text
/// can slip out through async-graphql's blanket `From<impl Display>`.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// No valid access token; the message says which.
    Unauthenticated(&'static str),
    /// Authenticated, but this is not the caller's to see or touch.
    Forbidden,
    /// Nothing with that id (only ever told to admins, who may see all).
    NotFound(&'static str),
    /// The input breaks a rule; the message says which.
    BadUserInput(String),
    /// Logged where it happened; the caller learns nothing more.
    Internal,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Logs an unexpected failure and hides it.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "GraphQL request failed");
        ApiError::Internal
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::BadUserInput(_) => "BAD_USER_INPUT",
            ApiError::Internal => INTERNAL,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated(why) => (*why).to_string(),
            ApiError::Forbidden => "you may only act on your own account".into(),
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::BadUserInput(why) => why.clone(),
            ApiError::Internal => "internal error".into(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        let code = e.code();
        async_graphql::Error::new(e.message()).extend_with(|_, ext| ext.set("code", code))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::BadUserInput(format!("{what} already exists")),
            other => ApiError::internal(&other),
        }
    }
}

impl From<ManagementError> for ApiError {
    fn from(e: ManagementError) -> Self {
        match e {
            ManagementError::InvalidInput(why) => ApiError::BadUserInput(why),
            ManagementError::NotFound(what) => ApiError::NotFound(what),
            other => ApiError::internal(&other),
        }
    }
}
