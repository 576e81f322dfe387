//! Page drafts: what the builder autosaves, with every saved version kept as history.

use super::slug::check_page_slug;
use super::{FieldError, Problems};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page {
    pub id: Uuid,
    pub project_id: Uuid,
    pub slug: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `{ "content": [component...], "root": {...} }`
    #[schema(value_type = Object)]
    pub layout_data: Value,
    #[schema(value_type = Option<Object>)]
    pub seo_data: Option<Value>,
    pub is_public: bool,
    pub is_homepage: bool,
    /// Starts at 1 and grows by one on every save; the `ETag` of the page.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// Body of create (POST) and replace (PUT). PATCH is merged into the current page first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageInput {
    #[schema(schema_with = shapes::slug_field)]
    pub slug: String,
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Defaults to an empty layout.
    #[serde(default)]
    #[schema(schema_with = shapes::layout_field)]
    pub layout_data: Option<Value>,
    #[serde(default)]
    #[schema(schema_with = shapes::seo_field)]
    pub seo_data: Option<Value>,
    #[serde(default)]
    pub is_public: Option<bool>,
    #[serde(default)]
    pub is_homepage: Option<bool>,
}

/// A page as a save answers it: the fields just written, with the layout as the bytes that
/// were stored, so a save never parses or serialises its layout again. Serialises exactly
/// like [`Page`] (same fields, same order; a test holds them together).
#[derive(Debug, Serialize)]
pub struct SavedPage {
    pub id: Uuid,
    pub project_id: Uuid,
    pub slug: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub layout_data: Box<RawValue>,
    pub seo_data: Option<Value>,
    pub is_public: bool,
    pub is_homepage: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl SavedPage {
    /// The saved page: `f` as written, with what the database assigned.
    pub fn new(
        f: PageFields,
        id: Uuid,
        project_id: Uuid,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        SavedPage {
            id,
            project_id,
            slug: f.slug,
            name: f.name,
            title: f.title,
            description: f.description,
            layout_data: f.layout_data,
            seo_data: f.seo_data,
            is_public: f.is_public,
            is_homepage: f.is_homepage,
            version,
            created_at,
            updated_at,
            deleted_at: None,
        }
    }
}

/// A validated page body, ready to store. The layout is serialised once, here, and these
/// bytes are what the row holds and what the save answers with.
#[derive(Debug, Clone)]
pub struct PageFields {
    pub slug: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub layout_data: Box<RawValue>,
    pub seo_data: Option<Value>,
    pub is_public: bool,
    pub is_homepage: bool,
}

impl From<&Page> for PageInput {
    fn from(p: &Page) -> Self {
        PageInput {
            slug: p.slug.clone(),
            name: p.name.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            layout_data: Some(p.layout_data.clone()),
            seo_data: p.seo_data.clone(),
            is_public: Some(p.is_public),
            is_homepage: Some(p.is_homepage),
        }
    }
}

/// How large a page's layout may be, so one request's work and memory stay bounded (a
/// compile holds a few copies of a layout). Generous for real sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutLimits {
    pub max_components: usize,
    pub max_depth: usize,
    pub max_bytes: usize,
}

impl Default for LayoutLimits {
    fn default() -> Self {
        LayoutLimits {
            max_components: 5_000,
            max_depth: 32,
            max_bytes: 1024 * 1024,
        }
    }
}

fn check_limits(p: &mut Problems, layout: &Value, bytes: usize, limits: &LayoutLimits) {
    let (count, depth) = crate::compile::layout_shape(layout);
    if count > limits.max_components {
        p.push(
            "/layout_data",
            "too_many_components",
            format!(
                "{count} components; at most {} per page (EDGEPUB_MAX_COMPONENTS)",
                limits.max_components
            ),
        );
    }
    if depth > limits.max_depth {
        p.push(
            "/layout_data",
            "too_deep",
            format!(
                "components nested {depth} deep; at most {} (EDGEPUB_MAX_DEPTH)",
                limits.max_depth
            ),
        );
    }
    if bytes > limits.max_bytes {
        p.push(
            "/layout_data",
            "too_large",
            format!(
                "{bytes} bytes of layout; at most {} per page (EDGEPUB_MAX_PAGE_BYTES)",
                limits.max_bytes
            ),
        );
    }
}

impl PageInput {
    pub fn validate(self, limits: &LayoutLimits) -> Result<PageFields, Vec<FieldError>> {
        let mut p = Problems::default();
        // A slug is an address, not text: it is taken as written (the document's pattern),
        // never trimmed into something the client did not send.
        let slug = self.slug;
        if let Err(m) = check_page_slug(&slug) {
            p.push("/slug", "invalid", m);
        }
        let name = p.text("/name", &self.name, 200);
        let title = p.opt_text("/title", self.title, 300);
        let description = p.opt_text("/description", self.description, 2000);
        let layout_data = self
            .layout_data
            .unwrap_or_else(|| json!({"content": [], "root": {}}));
        check_layout(&mut p, &layout_data);
        // Serialising a `Value` cannot fail (its keys are strings); `null` stands in if it did.
        let raw = serde_json::value::to_raw_value(&layout_data)
            .unwrap_or_else(|_| RawValue::NULL.to_owned());
        check_limits(&mut p, &layout_data, raw.get().len(), limits);
        drop(layout_data);
        let seo_data = self.seo_data.filter(|v| !v.is_null());
        if let Some(seo) = &seo_data {
            check_seo(&mut p, seo);
        }
        p.finish(PageFields {
            slug,
            name,
            title,
            description,
            layout_data: raw,
            seo_data,
            is_public: self.is_public.unwrap_or(true),
            is_homepage: self.is_homepage.unwrap_or(false),
        })
    }
}

fn check_layout(p: &mut Problems, layout: &Value) {
    let Some(obj) = layout.as_object() else {
        p.push(
            "/layout_data",
            "invalid",
            "must be an object `{content: [...], root: {...}}`",
        );
        return;
    };
    match obj.get("content") {
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    p.push(
                        &format!("/layout_data/content/{i}"),
                        "invalid",
                        "a component must be an object",
                    );
                }
            }
        }
        _ => p.push(
            "/layout_data/content",
            "invalid",
            "must be an array of components",
        ),
    }
    if obj
        .get("root")
        .is_some_and(|r| !r.is_object() && !r.is_null())
    {
        p.push("/layout_data/root", "invalid", "must be an object");
    }
}

fn check_seo(p: &mut Problems, seo: &Value) {
    let Some(obj) = seo.as_object() else {
        p.push("/seo_data", "invalid", "must be an object");
        return;
    };
    for key in ["title", "description", "ogImage", "canonical"] {
        if obj.get(key).is_some_and(|v| !v.is_string() && !v.is_null()) {
            p.push(&format!("/seo_data/{key}"), "invalid", "must be a string");
        }
    }
    if let Some(k) = obj.get("keywords") {
        let ok = k.is_null() || k.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            p.push(
                "/seo_data/keywords",
                "invalid",
                "must be an array of strings",
            );
        }
    }
}

/// One saved version of a page, as listed (without its layout).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageVersionSummary {
    pub version: i64,
    pub slug: String,
    pub name: String,
    pub saved_at: DateTime<Utc>,
}

/// One saved version of a page, whole.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageVersion {
    pub page_id: Uuid,
    pub version: i64,
    pub slug: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub layout_data: Value,
    #[schema(value_type = Option<Object>)]
    pub seo_data: Option<Value>,
    pub is_public: bool,
    pub is_homepage: bool,
    pub saved_at: DateTime<Utc>,
}

impl From<PageVersion> for PageInput {
    fn from(v: PageVersion) -> Self {
        PageInput {
            slug: v.slug,
            name: v.name,
            title: v.title,
            description: v.description,
            layout_data: Some(v.layout_data),
            seo_data: v.seo_data,
            is_public: Some(v.is_public),
            is_homepage: Some(v.is_homepage),
        }
    }
}

pub mod shapes;

#[cfg(test)]
mod tests;
