//! The resource owner password credentials grant (RFC 6749 §4.3).
//!
//! Every way a login can fail (unknown email, wrong password, disabled or
//! locked account) answers with the same error after the same work — one
//! argon2 verify — so that a caller cannot tell which it was.

use chrono::{DateTime, Utc};

use crate::domain::{Client, Email, User};
use crate::events::{TokenEvent, TokenEventKind};
use crate::oauth::{Chain, OAuthError, TokenGrant, TokenRequest, TokenService};
use crate::store::NewSession;

/// The one answer to every failed login.
pub const BAD_CREDENTIALS: &str = "the username or password is incorrect";

impl TokenService {
    pub(in crate::oauth) async fn password_grant(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenGrant, OAuthError> {
        let params = &request.params;
        let username = params.require("username")?;
        let password = params.require("password")?;
        let scope = Self::requested_scope(params, &client.scopes)?;
        let ctx = &request.context;
        let user = self.check_password(username, password, ctx.now).await?;

        // Every login is a new session: never hand out a token issued earlier.
        let session_id = uuid::Uuid::now_v7().to_string();
        let session_expires_at = ctx.now + self.policy.session_ttl;
        let chain = Chain {
            user_id: &user.id,
            client_id: &client.client_id,
            session_id: &session_id,
            session_expires_at,
        };
        let (issued, row) = self.new_refresh_token(&chain, None, &scope, ctx);
        let session = NewSession {
            id: session_id.clone(),
            user_id: user.id.clone(),
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            expires_at: session_expires_at,
            created_by_ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
        };
        let token_id = row.id.clone();
        self.store.start_session(session, row, ctx.now).await?;
        crate::metrics::get().refresh_tokens_issued.inc();
        tracing::info!(user_id = %user.id, %session_id, "login: session started");
        self.events.publish(TokenEvent {
            kind: TokenEventKind::Issued,
            user_id: user.id.clone(),
            client_id: client.client_id.clone(),
            session_id: Some(session_id.clone()),
            token_id: Some(token_id),
            reason: None,
            at: ctx.now,
        });

        let access_token = self.user_access_token(&user, client, &scope, &session_id, ctx.now)?;
        Ok(TokenGrant {
            access_token,
            expires_in: self.access_expires_in(),
            scope,
            refresh_token: Some(issued),
            refresh_in_cookie: client.refresh_cookie,
        })
    }

    /// The user behind a username and password, or `invalid_grant`.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<User, OAuthError> {
        let refused = || OAuthError::InvalidGrant(BAD_CREDENTIALS.into());
        let user = self
            .store
            .find_user_by_email(&Email::normalize(username))
            .await?;
        let verified = self
            .hasher
            .verify(
                password.to_string(),
                user.as_ref().map(|u| u.password_hash.clone()),
            )
            .await?;
        let Some(user) = user else {
            return Err(refused());
        };
        if user.is_locked(now) {
            // Attempts against a locked account are not counted: the lock
            // would otherwise never end under a steady attack.
            return Err(refused());
        }
        if !verified {
            let lock_for = self.policy.lockout_duration;
            let locked = self
                .store
                .record_login_failure(&user.id, now, self.policy.lockout_threshold, lock_for)
                .await?;
            if locked {
                crate::metrics::get().account_lockouts.inc();
                tracing::warn!(
                    target: "tessera::security",
                    event = crate::telemetry::events::ACCOUNT_LOCKED,
                    user_id = %user.id,
                    "account locked after repeated failed passwords"
                );
            }
            return Err(refused());
        }
        if user.disabled {
            crate::metrics::get().disabled_user_logins.inc();
            tracing::warn!(
                target: "tessera::security",
                event = crate::telemetry::events::DISABLED_USER_LOGIN,
                user_id = %user.id,
                "a disabled user tried to log in"
            );
            return Err(refused());
        }
        if user.failed_logins > 0 || user.locked_until.is_some() {
            self.store.clear_login_failures(&user.id).await?;
        }
        Ok(user)
    }
}
