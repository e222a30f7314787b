//! The `User` type: a profile, never a password hash.

use async_graphql::{ID, InputObject, Object};
use chrono::{DateTime, Utc};

use crate::domain::User;

pub struct UserNode(pub User);

#[Object(name = "User")]
impl UserNode {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }

    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }

    async fn roles(&self) -> &[String] {
        &self.0.roles
    }

    /// A disabled user cannot log in, and their tokens are refused.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }

    /// Locked for a while after repeated failed passwords.
    async fn is_locked(&self) -> bool {
        self.0.is_locked(Utc::now())
    }

    async fn locked_until(&self) -> Option<DateTime<Utc>> {
        self.0.locked_until.filter(|until| *until > Utc::now())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Only an admin may give roles.
    pub roles: Option<Vec<String>>,
}
