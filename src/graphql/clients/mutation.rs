//! `createClient` and `deleteClient`.

use async_graphql::{Context, Object};
use chrono::Utc;

use super::types::{ClientNode, CreateClientInput, CreatedClient};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::guard;
use crate::oauth::management::{self, ClientSpec, reason_by};

#[derive(Default)]
pub struct ClientsMutation;

#[Object]
impl ClientsMutation {
    /// Registers a client, by the same rules as `tessera client create`.
    /// Admins only.
    async fn create_client(
        &self,
        ctx: &Context<'_>,
        input: CreateClientInput,
    ) -> ApiResult<CreatedClient> {
        guard::admin(ctx)?;
        let spec = ClientSpec {
            client_id: input.client_id,
            public: input.public,
            secret: input.secret,
            grant_types: input
                .grant_types
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            scopes: input.scopes,
            refresh_cookie: input.refresh_cookie,
        };
        let created =
            management::create_client(&guard::state(ctx)?.store, spec, Utc::now()).await?;
        Ok(CreatedClient {
            client: ClientNode(created.client),
            client_secret: created.secret,
        })
    }

    /// Deletes a client with its sessions and refresh tokens; the access
    /// tokens it was issued are refused from now on. Admins only.
    async fn delete_client(&self, ctx: &Context<'_>, client_id: String) -> ApiResult<bool> {
        let p = guard::admin(ctx)?;
        let reason = reason_by("client_deleted", &p.user_id);
        let deleted = guard::state(ctx)?
            .tokens
            .delete_client(&client_id, &reason)
            .await?;
        if deleted {
            Ok(true)
        } else {
            Err(ApiError::NotFound("client"))
        }
    }
}
