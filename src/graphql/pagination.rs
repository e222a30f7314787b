//! Relay connections: `first`/`after` checked, opaque cursors, and the
//! connection object with `totalCount`.
//!
//! A cursor is the base64url of `<kind>:<id>`. Pages are keyset pages on the
//! time-ordered id (see `store::listing`), so a cursor keeps pointing at
//! the same place when rows are added.

use async_graphql::SimpleObject;
use async_graphql::connection::{Connection, Edge};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::{ApiError, ApiResult};
use crate::store::{Page, PageRequest};

/// Page size when `first` is omitted.
pub const DEFAULT_FIRST: i32 = 20;
/// Largest `first` accepted.
pub const MAX_FIRST: i32 = 100;

/// The extra field every connection carries.
#[derive(SimpleObject)]
pub struct TotalCount {
    /// How many items match, across all pages.
    pub total_count: u64,
}

pub type TesseraConnection<N> = Connection<String, N, TotalCount>;

/// Checks `first`, and turns `after` back into an id of the same `kind`.
pub fn page_request(
    kind: &str,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<PageRequest> {
    let first = checked_first(first)?;
    let after = after.map(|cursor| decode(kind, &cursor)).transpose()?;
    Ok(PageRequest { first, after })
}

/// `first`, defaulted and within 0..=100.
pub fn checked_first(first: Option<i32>) -> ApiResult<u64> {
    let first = first.unwrap_or(DEFAULT_FIRST);
    u64::try_from(first)
        .ok()
        .filter(|f| *f <= MAX_FIRST as u64)
        .ok_or_else(|| ApiError::BadUserInput(format!("`first` must be between 0 and {MAX_FIRST}")))
}

/// What a list field costs towards the complexity limit: its page size
/// times what each item asks for.
pub fn cost(first: Option<i32>, child_complexity: usize) -> usize {
    let first = first.unwrap_or(DEFAULT_FIRST).clamp(1, MAX_FIRST);
    usize::try_from(first)
        .unwrap_or(1)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

pub fn encode(kind: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

fn decode(kind: &str, cursor: &str) -> ApiResult<String> {
    let invalid = || ApiError::BadUserInput("`after` is not a cursor of this list".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.split_once(':') {
        Some((k, id)) if k == kind && !id.is_empty() => Ok(id.to_string()),
        _ => Err(invalid()),
    }
}

/// Builds the connection for one page of `kind`, mapping each item to its node.
pub fn connection<T, N>(
    kind: &str,
    page: Page<T>,
    after_given: bool,
    id_of: impl Fn(&T) -> &str,
    node: impl Fn(T) -> N,
) -> TesseraConnection<N>
where
    N: async_graphql::OutputType,
{
    let mut connection = Connection::with_additional_fields(
        after_given,
        page.has_next,
        TotalCount {
            total_count: page.total,
        },
    );
    connection.edges.extend(page.items.into_iter().map(|item| {
        let cursor = encode(kind, id_of(&item));
        Edge::new(cursor, node(item))
    }));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_only_within_their_kind() {
        let c = encode("session", "0193-abc");
        assert_eq!(decode("session", &c).ok(), Some("0193-abc".to_string()));
        assert!(decode("user", &c).is_err());
        assert!(decode("session", "not base64!").is_err());
    }

    #[test]
    fn first_defaults_to_20_and_stops_at_100() {
        assert_eq!(checked_first(None).ok(), Some(20));
        assert_eq!(checked_first(Some(100)).ok(), Some(100));
        assert!(checked_first(Some(101)).is_err());
        assert!(checked_first(Some(-1)).is_err());
    }
}
