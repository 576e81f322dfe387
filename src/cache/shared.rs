//! One Redis keyspace, one owner: two projects whose caches reach the same Redis database
//! with the same tenant would overwrite each other's page keys, and one's flush would remove
//! the other's. Saving such settings is refused before it happens.

use crate::domain::redis_url::keyspaces;
use crate::domain::settings::CacheSettings;
use crate::store::{Store, StoreError};
use uuid::Uuid;

/// Whether `settings`, under `tenant`, would share keys with another project's cache.
pub async fn shares_keys(
    store: &Store,
    project: Uuid,
    tenant: &str,
    settings: &CacheSettings,
) -> Result<bool, StoreError> {
    let mine = settings.keyspaces();
    if mine.is_empty() {
        return Ok(false);
    }
    let others = store.other_cache_addresses(project).await?;
    Ok(others.iter().any(|(t, kind, url, master)| {
        t == tenant
            && keyspaces(kind.is_rest(), url, master.as_deref())
                .iter()
                .any(|k| mine.contains(k))
    }))
}
