//! Keeping an instance in step with the others: every `SYNC_EVERY`, reload
//! the revocation list and the signing keys from the database, the only
//! state instances share.

use std::time::Duration;

use super::TokenService;

/// How long a revocation or key rotation made on another instance takes to
/// reach this one, at most.
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

impl TokenService {
    /// Runs the sync loop until the process ends.
    pub fn spawn_background_sync(&self) {
        let service = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SYNC_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = service
                    .revocations
                    .reload(&service.store, service.policy.access_ttl)
                    .await
                {
                    tracing::warn!(error = %e, "could not refresh the revocation list");
                }
                if let Err(e) = service.reload_keys().await {
                    tracing::warn!(error = %e, "could not refresh the signing keys");
                }
            }
        });
    }
}
