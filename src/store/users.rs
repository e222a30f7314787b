//! Users and their failed-login state.

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{Store, StoreError, conflict_or};
use crate::domain::{Email, User};

pub struct NewUser {
    pub id: String,
    pub email: Email,
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub roles: Vec<String>,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        User {
            id: m.id,
            email: m.email,
            password_hash: m.password_hash,
            first_name: m.first_name,
            last_name: m.last_name,
            roles: m
                .roles
                .split(' ')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
            disabled: m.disabled,
            failed_logins: m.failed_logins,
            locked_until: m.locked_until,
            created_at: m.created_at,
        }
    }
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn insert_user(&self, new: NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        let model = user::ActiveModel {
            id: Set(new.id),
            email: Set(new.email.as_str().to_string()),
            email_normalized: Set(new.email.normalized().to_string()),
            password_hash: Set(new.password_hash),
            first_name: Set(new.first_name),
            last_name: Set(new.last_name),
            roles: Set(new.roles.join(" ")),
            disabled: Set(false),
            failed_logins: Set(0),
            locked_until: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let _w = self.write_lock().await;
        let inserted = user::Entity::insert(model)
            .exec_with_returning(&self.db)
            .await
            .map_err(|e| conflict_or(e, "a user with this email"))?;
        Ok(inserted.into())
    }

    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_user_by_email(&self, normalized: &str) -> Result<Option<User>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::EmailNormalized.eq(normalized))
            .one(&self.db)
            .await?
            .map(User::from))
    }

    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        if let Some(direct) = &self.direct {
            return direct.find_user(id);
        }
        Ok(user::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .map(User::from))
    }

    pub async fn count_users(&self) -> Result<u64, StoreError> {
        Ok(user::Entity::find().count(&self.db).await?)
    }

    /// Counts one failed password; at `threshold` consecutive failures the
    /// account locks until `now + lock_for` and the count starts over. Both
    /// steps are single statements, so concurrent failures on several
    /// instances are all counted.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn record_login_failure(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        threshold: u32,
        lock_for: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let txn = self.begin_write().await?;
        user::Entity::update_many()
            .col_expr(
                user::Column::FailedLogins,
                Expr::col(user::Column::FailedLogins).add(1),
            )
            .filter(user::Column::Id.eq(user_id))
            .exec(txn.conn())
            .await?;
        let locked = user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(user::Column::LockedUntil, Expr::value(now + lock_for))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::FailedLogins.gte(i64::from(threshold)))
            .exec(txn.conn())
            .await?
            .rows_affected
            > 0;
        txn.commit().await?;
        Ok(locked)
    }

    /// A successful login forgets earlier failures.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn clear_login_failures(&self, user_id: &str) -> Result<(), StoreError> {
        let _w = self.write_lock().await;
        user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(
                user::Column::LockedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(user::Column::Id.eq(user_id))
            .filter(
                user::Column::FailedLogins
                    .gt(0)
                    .or(user::Column::LockedUntil.is_not_null()),
            )
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Ids of every disabled user.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn disabled_user_ids(&self) -> Result<Vec<String>, StoreError> {
        use sea_orm::QuerySelect;
        Ok(user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Disabled.eq(true))
            .into_tuple::<String>()
            .all(&self.db)
            .await?)
    }
}
