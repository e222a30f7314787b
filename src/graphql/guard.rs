//! Authorization, in one place. Who the caller is was settled when the
//! request came in (`Caller::authenticate`); every resolver asks here what
//! the caller may touch, before it reads or writes anything.
//!
//! The rule: role `admin` may act on any user; anyone else only on
//! themselves. A non-admin who names another user, or the id of a token or
//! session that is not theirs, gets `FORBIDDEN` whether or not the thing
//! exists, so that the answer never tells what exists. Only admins, who may
//! see everything anyway, are told `NOT_FOUND`.

use async_graphql::{Context, ID};
use chrono::Utc;

use super::error::{ApiError, ApiResult};
use crate::crypto::jwt::AccessClaims;
use crate::oauth::management::reason_by;
use crate::startup::AppState;

/// Who sent the request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No `Authorization` header: introspection only (and `register` when
    /// registration is open).
    Anonymous,
    /// A token was presented and is invalid, expired or revoked, or speaks
    /// for a client rather than a user.
    InvalidToken,
    User(Box<Principal>),
}

/// An authenticated user, as of this request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    /// The login the access token belongs to (its `sid` claim).
    pub session_id: String,
    /// From the database, not the token: a demotion takes effect at once.
    pub admin: bool,
    pub claims: AccessClaims,
}

impl Caller {
    /// Resolves a bearer token into a caller: a valid user access token
    /// whose user still exists and is enabled.
    pub async fn authenticate(state: &AppState, token: Option<&str>) -> ApiResult<Caller> {
        let Some(token) = token else {
            return Ok(Caller::Anonymous);
        };
        let Some(claims) = state.tokens.authenticate_bearer(token, Utc::now()).await else {
            return Ok(Caller::InvalidToken);
        };
        let Some(session_id) = claims.sid.clone() else {
            return Ok(Caller::InvalidToken);
        };
        match state.store.find_user(&claims.sub).await? {
            Some(user) if !user.disabled => Ok(Caller::User(Box::new(Principal {
                user_id: user.id.clone(),
                session_id,
                admin: user.is_admin(),
                claims,
            }))),
            _ => Ok(Caller::InvalidToken),
        }
    }
}

impl Principal {
    /// The reason to record on a revocation this caller makes on
    /// `owner`'s tokens: who did it, and whether as the owner or an admin.
    pub fn revocation_reason(&self, owner: &str, own_reason: &str) -> String {
        let why = if owner == self.user_id {
            own_reason
        } else {
            "revoked_by_admin"
        };
        reason_by(why, &self.user_id)
    }
}

/// The services, put into every request's data by the HTTP layer.
pub fn state<'a>(ctx: &Context<'a>) -> ApiResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|e| ApiError::internal(&e.message))
}

/// The caller, who must be signed in.
pub fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    match ctx.data_opt::<Caller>() {
        Some(Caller::User(p)) => Ok(p),
        Some(Caller::InvalidToken) => Err(ApiError::Unauthenticated(
            "the access token is invalid, expired or revoked",
        )),
        _ => Err(ApiError::Unauthenticated(
            "an access token is required: send `Authorization: Bearer <token>`",
        )),
    }
}

/// The caller, who must be an admin.
pub fn admin<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    let p = principal(ctx)?;
    if p.admin {
        Ok(p)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Whether there is a signed-in admin (without failing when there is not).
pub fn is_admin(ctx: &Context<'_>) -> bool {
    matches!(ctx.data_opt::<Caller>(), Some(Caller::User(p)) if p.admin)
}

/// The user an operation is about: `user_id` if the caller may act on it,
/// the caller when it is omitted. An admin naming an unknown user gets
/// `NOT_FOUND`; anyone else naming another user gets `FORBIDDEN` before
/// anything is looked up.
pub async fn target_user<'a>(
    ctx: &Context<'a>,
    user_id: Option<&ID>,
) -> ApiResult<(&'a Principal, String)> {
    let p = principal(ctx)?;
    let Some(id) = user_id.map(|id| id.as_str()) else {
        return Ok((p, p.user_id.clone()));
    };
    if id == p.user_id {
        return Ok((p, p.user_id.clone()));
    }
    if !p.admin {
        return Err(ApiError::Forbidden);
    }
    if state(ctx)?.store.find_user(id).await?.is_none() {
        return Err(ApiError::NotFound("user"));
    }
    Ok((p, id.to_string()))
}

/// Checks that the caller may act on a thing found by id, whose owner is
/// `owner` (`None` when nothing has that id).
pub fn owner<'a>(
    ctx: &Context<'a>,
    owner: Option<&str>,
    what: &'static str,
) -> ApiResult<&'a Principal> {
    let p = principal(ctx)?;
    match owner {
        Some(owner) if owner == p.user_id || p.admin => Ok(p),
        None if p.admin => Err(ApiError::NotFound(what)),
        _ => Err(ApiError::Forbidden),
    }
}

/// Registration is open to anyone when the server allows it; otherwise
/// only an admin may create accounts. Only an admin may give roles.
pub fn may_register(ctx: &Context<'_>, with_roles: bool) -> ApiResult<()> {
    if is_admin(ctx) {
        return Ok(());
    }
    if !state(ctx)?.settings.open_registration {
        // Anonymous callers learn they must sign in; users that they may not.
        principal(ctx)?;
        return Err(ApiError::Forbidden);
    }
    if with_roles {
        principal(ctx)?;
        return Err(ApiError::Forbidden);
    }
    Ok(())
}
