//! Accounts: registration, password changes, roles, disabling.

use chrono::Utc;

use super::ManagementError;
use crate::crypto::password;
use crate::domain::{Email, User};
use crate::oauth::TokenService;
use crate::store::NewUser;

/// A new account, as submitted.
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Vec<String>,
}

/// Role names checked and deduplicated, in the order given.
pub fn parse_roles(roles: &[String]) -> Result<Vec<String>, ManagementError> {
    let mut parsed: Vec<String> = Vec::with_capacity(roles.len());
    for role in roles {
        let role = crate::cli::validate_role(role.trim())
            .map_err(|e| ManagementError::InvalidInput(e.to_string()))?;
        if !parsed.contains(&role) {
            parsed.push(role);
        }
    }
    Ok(parsed)
}

/// A name is optional; when given it is trimmed and at most 100 characters.
fn parse_name(name: Option<String>, field: &str) -> Result<Option<String>, ManagementError> {
    let Some(name) = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ManagementError::InvalidInput(format!(
            "the {field} must be at most 100 printable characters"
        )));
    }
    Ok(Some(name))
}

const WRONG_PASSWORD: &str = "the current password is incorrect";

impl TokenService {
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn register(&self, account: NewAccount) -> Result<User, ManagementError> {
        let email = Email::parse(&account.email).map_err(ManagementError::InvalidInput)?;
        password::check_policy(&account.password).map_err(ManagementError::InvalidInput)?;
        let roles = parse_roles(&account.roles)?;
        let first_name = parse_name(account.first_name, "first name")?;
        let last_name = parse_name(account.last_name, "last name")?;
        let password_hash = self.hasher.hash(account.password).await?;
        let user = self
            .store
            .insert_user(
                NewUser {
                    id: uuid::Uuid::now_v7().to_string(),
                    email,
                    password_hash,
                    first_name,
                    last_name,
                    roles,
                },
                Utc::now(),
            )
            .await?;
        tracing::info!(user_id = %user.id, "user registered");
        Ok(user)
    }

    /// Changes a password after checking the current one, then ends every
    /// other session of the user (`keep_session` is the caller's own).
    /// Wrong guesses count towards the account lock, as at login.
    #[tracing::instrument(level = "debug", skip_all, fields(%user_id), err)]
    pub async fn change_password(
        &self,
        user_id: &str,
        keep_session: Option<&str>,
        current: String,
        new: String,
    ) -> Result<u64, ManagementError> {
        password::check_policy(&new).map_err(ManagementError::InvalidInput)?;
        if new == current {
            return Err(ManagementError::InvalidInput(
                "the new password must differ from the current one".into(),
            ));
        }
        let now = Utc::now();
        let user = self
            .store
            .find_user(user_id)
            .await?
            .ok_or(ManagementError::NotFound("user"))?;
        if user.is_locked(now) {
            return Err(ManagementError::InvalidInput(WRONG_PASSWORD.into()));
        }
        if !self
            .hasher
            .verify(current, Some(user.password_hash))
            .await?
        {
            self.store
                .record_login_failure(
                    user_id,
                    now,
                    self.policy.lockout_threshold,
                    self.policy.lockout_duration,
                )
                .await?;
            return Err(ManagementError::InvalidInput(WRONG_PASSWORD.into()));
        }
        let hash = self.hasher.hash(new).await?;
        self.store.set_password_hash(user_id, hash, now).await?;
        self.store.clear_login_failures(user_id).await?;
        let revoked = self
            .revoke_user_sessions(user_id, keep_session, "password_changed")
            .await?;
        tracing::info!(%user_id, revoked, "password changed; other sessions ended");
        Ok(revoked)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(%user_id), err)]
    pub async fn set_user_roles(
        &self,
        user_id: &str,
        roles: &[String],
    ) -> Result<User, ManagementError> {
        let roles = parse_roles(roles)?;
        let user = self
            .store
            .set_user_roles(user_id, &roles, Utc::now())
            .await?
            .ok_or(ManagementError::NotFound("user"))?;
        tracing::info!(%user_id, roles = %roles.join(" "), "roles set");
        Ok(user)
    }

    /// Disabling refuses the user's access tokens at once, revokes every
    /// session (with `reason`) and blocks the password grant; enabling lets
    /// the user log in again (revoked sessions stay revoked).
    #[tracing::instrument(level = "debug", skip_all, fields(%user_id, disabled), err)]
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        reason: &str,
    ) -> Result<User, ManagementError> {
        let user = self
            .store
            .set_user_disabled(user_id, disabled, Utc::now())
            .await?
            .ok_or(ManagementError::NotFound("user"))?;
        self.revocations.user_disabled(user_id, disabled);
        if disabled {
            self.revoke_user_sessions(user_id, None, reason).await?;
        }
        tracing::info!(
            target: "tessera::security",
            event = crate::telemetry::events::USER_DISABLED_SET,
            %user_id,
            disabled,
            "user disabled flag set"
        );
        Ok(user)
    }
}
