//! Projects: one site, with the settings an edge needs to render it.

use super::slug::check_project_slug;
use super::{FieldError, Problems};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The tenant an edge serves when it is not multi-tenant (defined with the contract types).
pub use crate::compile::DEFAULT_TENANT;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Project {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    /// `_default` for a single-tenant edge.
    pub tenant_slug: String,
    pub site_name: Option<String>,
    pub site_description: Option<String>,
    pub favicon_url: Option<String>,
    pub logo_url: Option<String>,
    pub app_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The project's directory under the sites root (`EDGEPUB_PAGES_ROOT`), chosen at
    /// creation and kept across renames: every local target of the project lies inside it.
    pub site_dir: String,
}

/// Body of create (POST) and replace (PUT). PATCH is merged into the current project first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: String,
    /// Derived from `name` on create when omitted; kept on replace when omitted.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
    pub slug: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(pattern = "^(_default|[a-z0-9][a-z0-9-]{0,62})$")]
    pub tenant_slug: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub site_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub site_description: Option<String>,
    #[serde(default)]
    #[schema(schema_with = site_url_field)]
    pub favicon_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = site_url_field)]
    pub logo_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = site_url_field)]
    pub app_url: Option<String>,
}

/// A validated project body, ready to store.
#[derive(Debug, Clone)]
pub struct ProjectFields {
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub tenant_slug: String,
    pub site_name: Option<String>,
    pub site_description: Option<String>,
    pub favicon_url: Option<String>,
    pub logo_url: Option<String>,
    pub app_url: Option<String>,
}

impl From<&Project> for ProjectInput {
    fn from(p: &Project) -> Self {
        ProjectInput {
            name: p.name.clone(),
            slug: Some(p.slug.clone()),
            description: p.description.clone(),
            tenant_slug: Some(p.tenant_slug.clone()),
            site_name: p.site_name.clone(),
            site_description: p.site_description.clone(),
            favicon_url: p.favicon_url.clone(),
            logo_url: p.logo_url.clone(),
            app_url: p.app_url.clone(),
        }
    }
}

impl ProjectInput {
    pub fn validate(self, slug_required: bool) -> Result<ProjectFields, Vec<FieldError>> {
        let mut p = Problems::default();
        let name = p.text("/name", &self.name, 200);
        let slug = match self.slug {
            // Taken as written, like a page slug: an address is never trimmed.
            Some(s) => s,
            None if slug_required => {
                p.push("/slug", "required", "must be given");
                String::new()
            }
            None => slugify(&name),
        };
        if let Err(m) = check_project_slug(&slug) {
            if !p.0.iter().any(|e| e.path == "/slug") {
                p.push("/slug", "invalid", m);
            }
        }
        let tenant_slug = self.tenant_slug.unwrap_or_else(|| DEFAULT_TENANT.into());
        if tenant_slug != DEFAULT_TENANT {
            if let Err(m) = check_project_slug(&tenant_slug) {
                p.push(
                    "/tenant_slug",
                    "invalid",
                    format!("must be `_default` or a slug: {m}"),
                );
            }
        }
        let fields = ProjectFields {
            name,
            slug,
            description: p.opt_text("/description", self.description, 2000),
            tenant_slug,
            site_name: p.opt_text("/site_name", self.site_name, 200),
            site_description: p.opt_text("/site_description", self.site_description, 2000),
            favicon_url: check_url(&mut p, "/favicon_url", self.favicon_url),
            logo_url: check_url(&mut p, "/logo_url", self.logo_url),
            app_url: check_url(&mut p, "/app_url", self.app_url),
        };
        p.finish(fields)
    }
}

/// [`check_url`] as the document's pattern: blank (absent), a path starting with one `/`, or an
/// http(s) URL of the simple shape `patterns::HOST` describes.
pub fn site_url_pattern() -> String {
    use super::patterns::{HOST, PORT_PATH, WS};
    format!("^{WS}*(/([^/\\u0000][^\\u0000]*)?|https?://{HOST}{PORT_PATH})?{WS}*$")
}

/// A site URL field of the document: [`site_url_pattern`], at most 2048 characters trimmed.
fn site_url_field() -> utoipa::openapi::schema::Schema {
    super::patterns::optional_text(site_url_pattern(), 2048)
}

/// Accepts absolute http(s) URLs and site-relative paths (`/favicon.ico`).
fn check_url(p: &mut Problems, path: &str, value: Option<String>) -> Option<String> {
    let v = p.opt_text(path, value, 2048)?;
    let ok = v.starts_with('/') && !v.starts_with("//")
        || url::Url::parse(&v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if !ok {
        p.push(
            path,
            "invalid_url",
            "must be an http(s) URL or a path starting with `/`",
        );
    }
    Some(v)
}

/// The name of a project created without a slug as the document's pattern (beside the name's
/// own): [`slugify`] keeps only what lower-cases to ASCII letters and digits, which besides them
/// is U+0130 (`İ`, to `i̇`) and U+212A (the Kelvin sign, to `k`); a test checks every character.
pub const DERIVABLE_NAME: &str = "[A-Za-z0-9\\u0130\\u212a]";

/// A best-effort slug from a display name; validation reports it if nothing usable is left.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-')
        .chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivable_name_lists_every_character_that_gives_a_slug() {
        let listed = |c: char| c.is_ascii_alphanumeric() || c == '\u{130}' || c == '\u{212a}';
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(!slugify(&c.to_string()).is_empty(), listed(c), "{c:?}");
        }
    }

    #[test]
    fn slug_from_name_and_all_errors_at_once() {
        assert_eq!(slugify("  My Great Site!! 2 "), "my-great-site-2");
        let input = ProjectInput {
            name: "".into(),
            slug: Some("Bad Slug".into()),
            app_url: Some("ftp://x".into()),
            tenant_slug: Some("Nope".into()),
            ..Default::default()
        };
        let errs = input.validate(false).unwrap_err();
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/name", "/slug", "/tenant_slug", "/app_url"]);
    }
}
