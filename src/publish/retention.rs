//! Keeping the control database proportional to what is live: a project keeps its newest
//! `EDGEPUB_RELEASE_RETENTION` releases (older ones can no longer be rolled back to), and
//! compiled pages no release, memo or pending cache operation refers to are dropped.
//! Pruning runs under the project's publish lease, so it never races a job that has compiled
//! pages it has not recorded yet.

use crate::store::{Store, StoreError};
use crate::worker::{Lease, Stop, Work};

pub struct RetentionWork {
    pub store: Store,
    pub owner: String,
    pub lease: chrono::Duration,
    /// Releases kept per project (at least 1).
    pub keep: i64,
}

#[async_trait::async_trait]
impl Work for RetentionWork {
    fn name(&self) -> &'static str {
        "retention"
    }

    async fn pass(&self, stop: &Stop) -> Result<(), StoreError> {
        for project in self.store.projects_over_retention(self.keep).await? {
            if stop.is_set() {
                break;
            }
            let Some(lease) = Lease::acquire(&self.store, project, &self.owner, self.lease).await?
            else {
                // A job runs; the next pass prunes.
                continue;
            };
            let pruned = self.store.prune_releases(project, self.keep).await;
            lease.release().await;
            let (releases, blobs) = pruned?;
            tracing::info!(project_id = %project, releases, blobs, "old releases pruned");
        }
        Ok(())
    }
}
