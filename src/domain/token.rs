//! API tokens: random bearer secrets stored only as SHA-256 hashes, with scopes and an
//! optional project they are limited to.

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Manage projects, pages, settings and tokens.
    Admin,
    /// Start publishes (CI systems, the publish button).
    Publish,
    /// What an edge may read (its own settings).
    Edge,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Publish => "publish",
            Scope::Edge => "edge",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "admin" => Ok(Scope::Admin),
            "publish" => Ok(Scope::Publish),
            "edge" => Ok(Scope::Edge),
            other => Err(format!("unknown scope `{other}` (admin, publish, edge)")),
        }
    }
}

/// Stored form of a scope list: `admin,publish`.
pub fn join_scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse_scopes(s: &str) -> Vec<Scope> {
    s.split(',').filter_map(|p| p.parse().ok()).collect()
}

/// A token as listed: never the secret, only its first characters to recognise it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub project_id: Option<Uuid>,
    /// A fingerprint to tell tokens apart: the first 12 hex digits of the token's SHA-256
    /// (`printf %s "$TOKEN" | sha256sum`), never any part of the secret itself.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The caller behind a request, resolved from its bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: Uuid,
    pub scopes: Vec<Scope>,
    pub project_id: Option<Uuid>,
}

/// A freshly generated secret: 256 random bits, shown once.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("ep_{}", hex::encode(bytes))
}

/// Tokens carry 256 random bits, so an unsalted fast hash is enough to make a leaked table
/// useless while keeping lookups a single indexed equality.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What the `prefix` column stores: a fingerprint of the hash, never part of the secret.
pub fn prefix(token: &str) -> String {
    hash(token)[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = generate();
        assert_eq!(a.len(), 3 + 64);
        assert_ne!(a, generate());
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
        assert_eq!(
            parse_scopes(&join_scopes(&[Scope::Admin, Scope::Edge])),
            [Scope::Admin, Scope::Edge]
        );
        assert!("root".parse::<Scope>().is_err());
    }
}
