//! Signing keys.

use chrono::{DateTime, Utc};
use entity::signing_key;
use sea_orm::ExprTrait;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{Store, StoreError};
use crate::crypto::keys::KeyMaterial;

impl From<signing_key::Model> for KeyMaterial {
    fn from(m: signing_key::Model) -> Self {
        KeyMaterial {
            current: m.retired_at.is_none(),
            kid: m.kid,
            algorithm: m.algorithm,
            private_der: m.private_key,
            public_raw: m.public_key,
        }
    }
}

impl Store {
    /// The current key and every key retired after `retired_after` (older
    /// ones can no longer have live tokens), newest first.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn load_keys(
        &self,
        retired_after: DateTime<Utc>,
    ) -> Result<Vec<KeyMaterial>, StoreError> {
        Ok(signing_key::Entity::find()
            .filter(
                signing_key::Column::RetiredAt
                    .is_null()
                    .or(signing_key::Column::RetiredAt.gt(retired_after)),
            )
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(KeyMaterial::from)
            .collect())
    }

    /// Makes `key` the current key, retiring the previous one, atomically.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn install_key(
        &self,
        key: &KeyMaterial,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
            .filter(signing_key::Column::RetiredAt.is_null())
            .exec(txn.conn())
            .await?;
        signing_key::Entity::insert(signing_key::ActiveModel {
            kid: Set(key.kid.clone()),
            algorithm: Set(key.algorithm.clone()),
            private_key: Set(key.private_der.clone()),
            public_key: Set(key.public_raw.clone()),
            created_at: Set(now),
            retired_at: Set(None),
        })
        .exec_without_returning(txn.conn())
        .await?;
        txn.commit().await
    }
}

/// What may be shown of a signing key: never its private half.
#[derive(Debug, Clone)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub algorithm: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Every key ever made, newest first.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn list_signing_keys(&self) -> Result<Vec<SigningKeyInfo>, StoreError> {
        Ok(signing_key::Entity::find()
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| SigningKeyInfo {
                kid: m.kid,
                algorithm: m.algorithm,
                created_at: m.created_at,
                retired_at: m.retired_at,
            })
            .collect())
    }
}
