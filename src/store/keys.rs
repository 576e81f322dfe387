//! Which keys seal this database's secrets, so a process can refuse to start with keys that
//! cannot open them, instead of failing on every secret later (or, worse, generating a key of
//! its own and sealing new secrets that its peers cannot open).

use super::{on_pool, Store, StoreError};
use crate::secrets::{Keyring, SecretError};
use std::collections::BTreeSet;

/// A constant sealed under each key: opening it proves a process holds that key.
const CHECK: &str = "edgepub secret key check";

impl Store {
    /// Key ids of the sealed secrets stored now (`v1.<id>.…`).
    async fn sealed_key_ids(&self) -> Result<BTreeSet<String>, StoreError> {
        let sql = "SELECT DISTINCT substr(redis_token, 4, 8) FROM cache_settings WHERE redis_token LIKE 'v1.%' \
                   UNION SELECT DISTINCT substr(redis_password, 4, 8) FROM cache_settings WHERE redis_password LIKE 'v1.%' \
                   UNION SELECT DISTINCT substr(token, 4, 8) FROM publish_targets WHERE token LIKE 'v1.%' \
                   UNION SELECT DISTINCT substr(secret, 4, 8) FROM datasources WHERE secret LIKE 'v1.%' \
                   UNION SELECT DISTINCT substr(secret, 4, 8) FROM webhook_secrets WHERE secret LIKE 'v1.%' \
                   UNION SELECT DISTINCT substr(secret, 4, 8) FROM webhook_endpoints WHERE secret LIKE 'v1.%' \
                   UNION SELECT DISTINCT substr(url, 4, 8) FROM webhook_endpoints WHERE url LIKE 'v1.%'";
        let ids: Vec<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).fetch_all(&mut *p).await)?;
        Ok(ids.into_iter().collect())
    }

    async fn key_checks(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT key_id, check_value FROM secret_keys ORDER BY key_id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(&mut *p).await)?)
    }

    /// Keys this database has had secrets sealed with (its key must be reused).
    pub async fn sealing_keys(&self) -> Result<BTreeSet<String>, StoreError> {
        let mut ids = self.sealed_key_ids().await?;
        ids.extend(self.key_checks().await?.into_iter().map(|(id, _)| id));
        Ok(ids)
    }

    /// Checks that `keyring` opens every secret stored, and records its sealing key.
    pub async fn adopt_keyring(&self, keyring: &Keyring) -> Result<(), StoreError> {
        let missing: Vec<String> = self
            .sealed_key_ids()
            .await?
            .into_iter()
            .filter(|id| !keyring.has(id))
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::Secret(SecretError::MissingKey(
                missing.join(", "),
            )));
        }
        for (id, check) in self.key_checks().await? {
            // Same id, another key: an (unlikely) id collision must not pass for the key.
            if keyring.has(&id) && !keyring.open(&check).is_ok_and(|v| v == CHECK) {
                return Err(StoreError::Secret(SecretError::MissingKey(id)));
            }
        }
        let sql = "INSERT INTO secret_keys (key_id, check_value, created_at) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING";
        let current = keyring.current();
        on_pool!(self, p => sqlx::query(sql).bind(current.id()).bind(keyring.seal(CHECK)).bind(self.clock.now()).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }
}
