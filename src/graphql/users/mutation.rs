//! `register`, `changePassword`, `setUserRoles`, `setUserDisabled`.

use async_graphql::{Context, ID, Object};

use super::types::{RegisterInput, UserNode};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::guard;
use crate::oauth::management::{NewAccount, reason_by};

#[derive(Default)]
pub struct UsersMutation;

#[Object]
impl UsersMutation {
    /// Creates an account: anyone when open registration is on, else admins.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> ApiResult<UserNode> {
        let roles = input.roles.unwrap_or_default();
        guard::may_register(ctx, !roles.is_empty())?;
        let user = guard::state(ctx)?
            .tokens
            .register(NewAccount {
                email: input.email,
                password: input.password,
                first_name: input.first_name,
                last_name: input.last_name,
                roles,
            })
            .await?;
        Ok(UserNode(user))
    }

    /// Changes the caller's password and ends their other sessions; the
    /// session making the change stays signed in.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> ApiResult<bool> {
        let p = guard::principal(ctx)?;
        guard::state(ctx)?
            .tokens
            .change_password(
                &p.user_id,
                Some(&p.session_id),
                current_password,
                new_password,
            )
            .await?;
        Ok(true)
    }

    /// Replaces a user's roles. Admins only; an admin cannot drop their
    /// own `admin` role (someone must remain able to manage).
    async fn set_user_roles(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        roles: Vec<String>,
    ) -> ApiResult<UserNode> {
        let p = guard::admin(ctx)?;
        if user_id.as_str() == p.user_id && !roles.iter().any(|r| r.trim() == "admin") {
            return Err(ApiError::BadUserInput(
                "you cannot remove your own admin role".into(),
            ));
        }
        let user = guard::state(ctx)?
            .tokens
            .set_user_roles(&user_id, &roles)
            .await?;
        Ok(UserNode(user))
    }

    /// Disables (revoking every session and refusing every token and
    /// login) or re-enables a user. Admins only, and not themselves.
    async fn set_user_disabled(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        disabled: bool,
    ) -> ApiResult<UserNode> {
        let p = guard::admin(ctx)?;
        if disabled && user_id.as_str() == p.user_id {
            return Err(ApiError::BadUserInput("you cannot disable yourself".into()));
        }
        let reason = reason_by("user_disabled", &p.user_id);
        let user = guard::state(ctx)?
            .tokens
            .set_user_disabled(&user_id, disabled, &reason)
            .await?;
        Ok(UserNode(user))
    }
}
