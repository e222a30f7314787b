//! `sessions`: a user's logins, newest first; `session(id)`: one of them,
//! which is how the console opens a login's token lineage.

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::types::SessionNode;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::guard;
use crate::graphql::pagination::{self, TesseraConnection};
use crate::store::SessionFilter;

const KIND: &str = "session";

#[derive(Default)]
pub struct SessionsQuery;

#[Object]
impl SessionsQuery {
    /// The sessions of `userId` (yours when omitted; anyone's for an
    /// admin); with `activeOnly`, only those that can still refresh.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
        active_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<TesseraConnection<SessionNode>> {
        let (_, user_id) = guard::target_user(ctx, user_id.as_ref()).await?;
        let after_given = after.is_some();
        let page = pagination::page_request(KIND, first, after)?;
        let now = Utc::now();
        let filter = SessionFilter {
            user_id,
            active_only: active_only.unwrap_or(false),
            now,
        };
        let sessions = guard::state(ctx)?
            .store
            .list_sessions(&filter, &page)
            .await?;
        Ok(pagination::connection(
            KIND,
            sessions,
            after_given,
            |s| &s.id,
            |s| SessionNode::new(s, now),
        ))
    }

    /// A session by id: yours, or anyone's for an admin (`null` if
    /// unknown). Its `tokens` are its chain of refresh tokens.
    async fn session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<SessionNode>> {
        let now = Utc::now();
        let session = guard::state(ctx)?.store.find_session_info(&id, now).await?;
        match guard::owner(ctx, session.as_ref().map(|s| s.user_id.as_str()), KIND) {
            Ok(_) => Ok(session.map(|s| SessionNode::new(s, now))),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
