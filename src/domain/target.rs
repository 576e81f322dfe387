//! Publish targets: where a project's compiled pages go. One or more per project, each a local
//! SQLite file, a Turso database, or a push-style edge's import API.

use super::settings::{Purpose, SecretPatch};
use super::slug::check_project_slug;
use super::{FieldError, Problems};
use crate::secrets::SecretHint;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A SQLite `pages.db` under the data root, read live by a self-hosted edge.
    Local,
    /// A Turso (libSQL) database over HTTP.
    Turso,
    /// A push-style edge's import API.
    Edge,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Local => "local",
            TargetKind::Turso => "turso",
            TargetKind::Edge => "edge",
        }
    }

    pub fn parse(s: &str) -> Option<TargetKind> {
        match s {
            "local" => Some(TargetKind::Local),
            "turso" => Some(TargetKind::Turso),
            "edge" => Some(TargetKind::Edge),
            _ => None,
        }
    }
}

/// A target with its secret in clear, for connecting. `Debug` redacts the token.
#[derive(Clone)]
pub struct Target {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub kind: TargetKind,
    pub enabled: bool,
    pub path: Option<String>,
    pub url: Option<String>,
    pub token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// The fields a save writes, validated; the token already merged with the stored one.
#[derive(Clone)]
pub struct TargetFields {
    pub name: String,
    pub kind: TargetKind,
    pub enabled: bool,
    pub path: Option<String>,
    pub url: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub kind: TargetKind,
    /// Short name such as `eu` or `us`, unique per project.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `local`: the SQLite file, relative to the data root or absolute inside it.
    #[serde(default)]
    pub path: Option<String>,
    /// `turso`: `libsql://`, `https://` or `http://`; `edge`: the edge's base URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Turso auth token or the edge's system key. Omit to keep the stored one; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub token: SecretPatch,
}

fn yes() -> bool {
    true
}

impl TargetInput {
    /// The input form of a stored target (token left as "keep"), for merge patches.
    pub fn from_target(t: &Target) -> serde_json::Value {
        serde_json::json!({
            "kind": t.kind, "name": t.name, "enabled": t.enabled, "path": t.path, "url": t.url,
        })
    }

    /// Validates everything but the local path, which the publish layer resolves against the
    /// data root. The stored token is kept only for the same kind and address; a local
    /// target uses none, so it drops one.
    pub fn validate(
        self,
        stored: Option<&TargetFields>,
        purpose: Purpose,
    ) -> Result<TargetFields, Vec<FieldError>> {
        let mut p = Problems::default();
        // A name is an identifier, taken as written (the document's pattern), never trimmed.
        let name = self.name;
        if check_project_slug(&name).is_err() {
            p.push(
                "/name",
                "invalid",
                "must be 1-63 lowercase letters, digits or `-`",
            );
        }
        let path = self
            .path
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let url = self
            .url
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty());
        let same_address = stored.is_some_and(|s| {
            s.kind == self.kind
                && url.as_deref().map(super::settings::secret_origin)
                    == s.url.as_deref().map(super::settings::secret_origin)
        });
        let token = match self.kind {
            TargetKind::Local => None,
            TargetKind::Turso | TargetKind::Edge => self.token.apply_at(
                stored.and_then(|s| s.token.clone()),
                same_address,
                purpose,
                "/token",
                &mut p,
            ),
        };
        match self.kind {
            TargetKind::Local => {
                if path.is_none() {
                    p.push(
                        "/path",
                        "required",
                        "a local target needs the path of its SQLite file",
                    );
                }
            }
            TargetKind::Turso => check_url(&mut p, url.as_deref(), &["libsql", "https", "http"]),
            TargetKind::Edge => {
                check_url(&mut p, url.as_deref(), &["https", "http"]);
                // A test without the key runs anyway: the edge then answers that it wants one.
                if token.is_none() && purpose == Purpose::Save {
                    p.push("/token", "required", "an edge target needs its system key");
                }
            }
        }
        p.finish(TargetFields {
            name,
            kind: self.kind,
            enabled: self.enabled,
            path,
            url,
            token,
        })
    }
}

fn check_url(p: &mut Problems, url: Option<&str>, schemes: &[&str]) {
    match url.map(url::Url::parse) {
        None => p.push("/url", "required", "this kind of target needs a URL"),
        Some(Ok(u)) if schemes.contains(&u.scheme()) && u.host_str().is_some() => {}
        Some(_) => p.push(
            "/url",
            "invalid",
            format!("must be a URL starting with {}://", schemes.join("://, ")),
        ),
    }
}

/// What a GET returns: the token only as a hint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub kind: TargetKind,
    pub enabled: bool,
    pub path: Option<String>,
    pub url: Option<String>,
    pub token: SecretHint,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Target> for TargetView {
    fn from(t: &Target) -> Self {
        TargetView {
            id: t.id,
            project_id: t.project_id,
            name: t.name.clone(),
            kind: t.kind,
            enabled: t.enabled,
            path: t.path.clone(),
            url: t.url.clone(),
            token: SecretHint::of(t.token.as_deref()),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

impl Target {
    /// The saved fields, for opening the target.
    pub fn fields(&self) -> TargetFields {
        TargetFields {
            name: self.name.clone(),
            kind: self.kind,
            enabled: self.enabled,
            path: self.path.clone(),
            url: self.url.clone(),
            token: self.token.clone(),
        }
    }
}
