//! Datasources a project's bindings read from. Only public values (id, type, name, url, anon
//! key, the name of the edge variable holding the secret) are ever compiled into output; the
//! secret itself stays sealed in the control plane.

use super::settings::SecretPatch;
use super::{FieldError, Problems};
use crate::compile::DatasourceKind;
use crate::secrets::SecretHint;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A datasource with its secret in clear. `Debug` redacts it.
#[derive(Clone)]
pub struct Datasource {
    pub id: Uuid,
    pub project_id: Uuid,
    pub kind: DatasourceKind,
    pub name: String,
    pub url: Option<String>,
    pub anon_key: Option<String>,
    pub secret: Option<String>,
    pub secret_env_var: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for Datasource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datasource")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl Datasource {
    /// What the compiler (and so every edge) may see.
    pub fn public(&self) -> crate::compile::Datasource {
        crate::compile::Datasource {
            id: self.id.to_string(),
            kind: self.kind,
            name: self.name.clone(),
            url: self.url.clone(),
            anon_key: self.anon_key.clone(),
            secret_env_var: self.secret_env_var.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasourceInput {
    /// supabase, neon, planetscale, turso, postgres, mysql or sqlite.
    #[serde(rename = "type")]
    #[schema(value_type = String, pattern = "^(supabase|neon|planetscale|turso|postgres|mysql|sqlite)$")]
    pub kind: DatasourceKind,
    #[schema(pattern = "\\S", max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = url_field)]
    pub url: Option<String>,
    /// Public (anon) key, published to edges.
    #[serde(default)]
    pub anon_key: Option<String>,
    /// A private key or password, never published. Omit to keep; `null` clears.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub secret: SecretPatch,
    #[serde(default)]
    #[schema(schema_with = env_var_field)]
    pub secret_env_var: Option<String>,
}

/// Validated fields, the secret merged with the stored one.
#[derive(Clone)]
pub struct DatasourceFields {
    pub kind: DatasourceKind,
    pub name: String,
    pub url: Option<String>,
    pub anon_key: Option<String>,
    pub secret: Option<String>,
    pub secret_env_var: Option<String>,
}

/// The `secret_env_var` check of [`DatasourceInput::validate`] as the document's pattern:
/// blank (absent), or an upper-case environment variable name of at most 100 characters.
pub fn env_var_pattern() -> String {
    use super::patterns::WS;
    format!("^{WS}*([A-Z_][A-Z0-9_]{{0,99}}{WS}*)?$")
}

/// The document's `url`: one token of a URL with any scheme, at most 2048 characters trimmed.
fn url_field() -> utoipa::openapi::schema::Schema {
    super::patterns::optional_text(
        super::patterns::url_token("[a-z][a-z0-9+.-]{0,15}", true),
        2048,
    )
}

fn env_var_field() -> utoipa::openapi::schema::Schema {
    super::patterns::schema(serde_json::json!({
        "type": ["string", "null"], "pattern": env_var_pattern(),
        "description": "The edge environment variable that holds the secret, e.g. `DS_MAIN_API_KEY`.",
    }))
}

impl DatasourceInput {
    pub fn validate(
        self,
        stored_secret: Option<String>,
    ) -> Result<DatasourceFields, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.text("/name", &self.name, 100);
        let url = p.opt_text("/url", self.url, 2048);
        if let Some(u) = &url {
            if url::Url::parse(u).is_err() || !super::url_is_one_token(u) {
                p.push("/url", "invalid_url", "must be a URL");
            }
        }
        let secret_env_var = p.opt_text("/secret_env_var", self.secret_env_var, 100);
        if let Some(v) = &secret_env_var {
            let ok = v
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && v.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                p.push(
                    "/secret_env_var",
                    "invalid",
                    "must be an environment variable name like DS_MAIN_API_KEY",
                );
            }
        }
        p.finish(DatasourceFields {
            kind: self.kind,
            name,
            url,
            anon_key: self.anon_key.filter(|k| !k.trim().is_empty()),
            secret: self.secret.apply(stored_secret),
            secret_env_var,
        })
    }
}

/// What a GET returns: the secret only as a hint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasourceView {
    pub id: Uuid,
    pub project_id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub url: Option<String>,
    pub anon_key: Option<String>,
    pub secret: SecretHint,
    pub secret_env_var: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Datasource> for DatasourceView {
    fn from(d: &Datasource) -> Self {
        DatasourceView {
            id: d.id,
            project_id: d.project_id,
            kind: d.kind.as_str().to_string(),
            name: d.name.clone(),
            url: d.url.clone(),
            anon_key: d.anon_key.clone(),
            secret: SecretHint::of(d.secret.as_deref()),
            secret_env_var: d.secret_env_var.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}
