//! API tokens, stored as hashes only.

use super::{on_pool, Store, StoreError};
use crate::domain::token::{self, join_scopes, parse_scopes, Principal, Scope, TokenInfo};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// `prefix` is read from the hash, never from the stored column: rows written before it held
/// a token's first characters, which for a chosen `EDGEPUB_ADMIN_TOKEN` is part of the secret.
const COLS: &str = "id, name, substr(token_hash, 1, 12) AS prefix, scopes, project_id, created_at, last_used_at, revoked_at";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    name: String,
    prefix: String,
    scopes: String,
    project_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        TokenInfo {
            id: r.id,
            name: r.name,
            scopes: parse_scopes(&r.scopes),
            project_id: r.project_id,
            prefix: r.prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// What revoking by id or name did.
#[derive(Debug)]
pub enum Revoked {
    One(TokenInfo),
    /// Several tokens have that name; none was revoked.
    Ambiguous(Vec<TokenInfo>),
}

/// `last_used_at` is refreshed at most this often, so authentication is not a write per request.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

impl Store {
    /// Stores a token given in clear (generated or from config); only its hash is kept.
    /// Storing the same secret twice is a no-op that returns `None`.
    pub async fn insert_token(
        &self,
        secret: &str,
        name: &str,
        scopes: &[Scope],
        project_id: Option<Uuid>,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!(
            "INSERT INTO api_tokens (id, name, token_hash, prefix, scopes, project_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token_hash) DO NOTHING RETURNING {COLS}"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, TokenRow>(&sql)
            .bind(Uuid::new_v4())
            .bind(name)
            .bind(token::hash(secret))
            .bind(token::prefix(secret))
            .bind(join_scopes(scopes))
            .bind(project_id)
            .bind(self.clock.now())
            .fetch_optional(&mut *p)
            .await)?;
        Ok(row.map(TokenInfo::from))
    }

    /// Replaces what rows written before fingerprints held in `prefix` (a token's first
    /// characters) with the fingerprint, so no part of a secret stays at rest in clear.
    pub async fn scrub_token_prefixes(&self) -> Result<u64, StoreError> {
        let sql = "UPDATE api_tokens SET prefix = substr(token_hash, 1, 12) WHERE prefix <> substr(token_hash, 1, 12)";
        Ok(on_pool!(self, p => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()))?)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = format!("SELECT {COLS} FROM api_tokens ORDER BY created_at, id");
        let rows =
            on_pool!(self, p => sqlx::query_as::<_, TokenRow>(&sql).fetch_all(&mut *p).await)?;
        Ok(rows.into_iter().map(TokenInfo::from).collect())
    }

    pub async fn count_tokens(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM api_tokens";
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *p).await)?)
    }

    /// Revokes one token: by id, or by a name only one token answers to (among the active
    /// ones when any has it). A name several tokens share revokes nothing and lists them, so
    /// the caller picks one by id. Revoking twice keeps the first revocation time.
    pub async fn revoke_token(&self, id_or_name: &str) -> Result<Revoked, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM api_tokens WHERE id = $1 OR name = $2 ORDER BY created_at, id"
        );
        let id = Uuid::parse_str(id_or_name).ok();
        let rows: Vec<TokenInfo> = on_pool!(self, p => sqlx::query_as::<_, TokenRow>(&sql).bind(id).bind(id_or_name).fetch_all(&mut *p).await)?
            .into_iter()
            .map(TokenInfo::from)
            .collect();
        let by_id = rows.iter().find(|t| Some(t.id) == id).map(|t| t.id);
        let target = match by_id {
            Some(id) => id,
            None => {
                let active: Vec<&TokenInfo> =
                    rows.iter().filter(|t| t.revoked_at.is_none()).collect();
                let candidates = if active.is_empty() {
                    rows.iter().collect()
                } else {
                    active
                };
                match candidates.as_slice() {
                    [] => return Err(StoreError::NotFound),
                    [one] => one.id,
                    several => {
                        return Ok(Revoked::Ambiguous(
                            several.iter().map(|t| (*t).clone()).collect(),
                        ))
                    }
                }
            }
        };
        let sql = format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {COLS}"
        );
        let now = self.clock.now();
        let row = on_pool!(self, p => sqlx::query_as::<_, TokenRow>(&sql).bind(target).bind(now).fetch_optional(p).await)?;
        row.map(|r| Revoked::One(r.into()))
            .ok_or(StoreError::NotFound)
    }

    /// Resolves a bearer secret to its principal; revoked or unknown tokens give `None`.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, StoreError> {
        let sql =
            format!("SELECT {COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
        let row = on_pool!(self, p => sqlx::query_as::<_, TokenRow>(&sql).bind(token::hash(secret)).fetch_optional(&mut *p).await)?;
        let Some(row) = row else { return Ok(None) };
        let now = self.clock.now();
        let stale = row
            .last_used_at
            .is_none_or(|t| now - t > Duration::seconds(LAST_USED_GRANULARITY_SECS));
        if stale {
            let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
            on_pool!(self, p => sqlx::query(sql).bind(row.id).bind(now).execute(&mut *p).await.map(|_| ()))?;
        }
        Ok(Some(Principal {
            token_id: row.id,
            scopes: parse_scopes(&row.scopes),
            project_id: row.project_id,
        }))
    }
}
