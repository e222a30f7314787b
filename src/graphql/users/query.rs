//! `me`, `user(id)` and `users` (admins).

use async_graphql::{Context, ID, Object};

use super::types::UserNode;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::guard;
use crate::graphql::pagination::{self, TesseraConnection};

const KIND: &str = "user";

#[derive(Default)]
pub struct UsersQuery;

#[Object]
impl UsersQuery {
    /// The caller's own profile.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<UserNode> {
        let p = guard::principal(ctx)?;
        guard::state(ctx)?
            .store
            .find_user(&p.user_id)
            .await?
            .map(UserNode)
            .ok_or(ApiError::Unauthenticated(
                "the access token's user no longer exists",
            ))
    }

    /// A user by id: yourself, or anyone for an admin (`null` if unknown).
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<UserNode>> {
        let p = guard::principal(ctx)?;
        if id.as_str() != p.user_id && !p.admin {
            return Err(ApiError::Forbidden);
        }
        Ok(guard::state(ctx)?.store.find_user(&id).await?.map(UserNode))
    }

    /// Every user, newest first; `search` matches email and names,
    /// ignoring case. Admins only.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> ApiResult<TesseraConnection<UserNode>> {
        guard::admin(ctx)?;
        let after_given = after.is_some();
        let page = pagination::page_request(KIND, first, after)?;
        let users = guard::state(ctx)?
            .store
            .list_users(search.as_deref(), &page)
            .await?;
        Ok(pagination::connection(
            KIND,
            users,
            after_given,
            |u| &u.id,
            UserNode,
        ))
    }
}
