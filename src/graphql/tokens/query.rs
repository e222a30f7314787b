//! `refreshTokens`: a user's tokens, newest first.

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::types::{RefreshTokenNode, Status};
use crate::graphql::error::ApiResult;
use crate::graphql::guard;
use crate::graphql::pagination::{self, TesseraConnection};
use crate::store::TokenFilter;

const KIND: &str = "refresh_token";

#[derive(Default)]
pub struct TokensQuery;

#[Object]
impl TokensQuery {
    /// The refresh tokens of `userId` (yours when omitted; anyone's for an
    /// admin), optionally only those in one state.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn refresh_tokens(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
        status: Option<Status>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<TesseraConnection<RefreshTokenNode>> {
        let (_, user_id) = guard::target_user(ctx, user_id.as_ref()).await?;
        let after_given = after.is_some();
        let page = pagination::page_request(KIND, first, after)?;
        let now = Utc::now();
        let filter = TokenFilter {
            user_id,
            status: status.map(Into::into),
            now,
        };
        let tokens = guard::state(ctx)?
            .store
            .list_refresh_tokens(&filter, &page)
            .await?;
        Ok(pagination::connection(
            KIND,
            tokens,
            after_given,
            |t| &t.id,
            |t| RefreshTokenNode::new(t, now),
        ))
    }
}
