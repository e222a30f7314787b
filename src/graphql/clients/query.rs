//! `clients`.

use async_graphql::{Context, Object};

use super::types::ClientNode;
use crate::graphql::error::ApiResult;
use crate::graphql::guard;

#[derive(Default)]
pub struct ClientsQuery;

#[Object]
impl ClientsQuery {
    /// Every registered client, by id. Admins only.
    async fn clients(&self, ctx: &Context<'_>) -> ApiResult<Vec<ClientNode>> {
        guard::admin(ctx)?;
        let clients = guard::state(ctx)?.store.list_clients().await?;
        Ok(clients.into_iter().map(ClientNode).collect())
    }
}
