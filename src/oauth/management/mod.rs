//! Managing accounts, clients and tokens: what the GraphQL mutations (and,
//! for clients, the CLI) do. Plain Rust and no authorization: the caller
//! decides who may act, this decides how it is done, so that every path
//! records a reason, publishes an event and updates the revocation list.

mod clients;
mod tokens;
mod users;

pub use clients::{ClientSpec, CreatedClient, create_client};
pub use users::NewAccount;

use crate::crypto::password::HashError;
use crate::store::StoreError;

/// Why a management operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ManagementError {
    /// The input breaks a rule; the message says which, for the caller.
    #[error("{0}")]
    InvalidInput(String),
    /// Nothing with that id exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The database failed: logged, never shown.
    #[error(transparent)]
    Store(StoreError),
    /// Password hashing failed: logged, never shown.
    #[error(transparent)]
    Hash(#[from] HashError),
}

impl From<StoreError> for ManagementError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                ManagementError::InvalidInput(format!("{what} already exists"))
            }
            other => ManagementError::Store(other),
        }
    }
}

/// The reason stored on a revocation made by a person: why, and who
/// (`"logout_everywhere by 0193…"`), so that the audit trail needs no
/// extra column.
pub fn reason_by(why: &str, actor_user_id: &str) -> String {
    format!("{why}{BY}{actor_user_id}")
}

/// Splits a stored reason into why and, if a person did it, who.
pub fn split_reason(stored: &str) -> (&str, Option<&str>) {
    match stored.split_once(BY) {
        Some((why, who)) => (why, Some(who)),
        None => (stored, None),
    }
}

const BY: &str = " by ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_record_who_and_why() {
        let stored = reason_by("revoked_by_admin", "0193-abc");
        assert_eq!(
            split_reason(&stored),
            ("revoked_by_admin", Some("0193-abc"))
        );
        assert_eq!(split_reason("rotated"), ("rotated", None));
    }
}
