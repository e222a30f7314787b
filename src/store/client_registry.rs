//! Listing and deleting OAuth clients.

use entity::{client, session};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Store, StoreError};
use crate::domain::Client;

impl Store {
    /// Every client, by id.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        Ok(client::Entity::find()
            .order_by_asc(client::Column::ClientId)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Client::from)
            .collect())
    }

    /// The ids of every client: few, and read often by the revocation list.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn client_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(client::Entity::find()
            .select_only()
            .column(client::Column::ClientId)
            .into_tuple::<String>()
            .all(&self.db)
            .await?)
    }

    /// Deletes a client; its sessions and their refresh tokens go with it
    /// (foreign keys cascade). Returns those sessions as (session id, user
    /// id) pairs, or `None` if there was no such client.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn delete_client(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<(String, String)>>, StoreError> {
        let txn = self.begin_write().await?;
        let sessions = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .column(session::Column::UserId)
            .filter(session::Column::ClientId.eq(client_id))
            .into_tuple::<(String, String)>()
            .all(txn.conn())
            .await?;
        let deleted = client::Entity::delete_many()
            .filter(client::Column::ClientId.eq(client_id))
            .exec(txn.conn())
            .await?
            .rows_affected;
        if deleted == 0 {
            return Ok(None);
        }
        txn.commit().await?;
        self.clients.forget(client_id);
        Ok(Some(sessions))
    }
}
