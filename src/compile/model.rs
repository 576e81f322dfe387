//! Inputs of the compiler: draft pages, public datasources, the project context and options.
//!
//! These types deserialise from what the store hands over (snake_case, with the camelCase
//! spellings accepted as aliases) and carry no behaviour beyond small lookups.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Default size limit of one page's serialized `layout_data` (2 MiB).
pub const DEFAULT_MAX_LAYOUT_BYTES: usize = 2 * 1024 * 1024;

/// The tenant an edge serves when it is not multi-tenant.
pub const DEFAULT_TENANT: &str = "_default";

/// A live draft page as the builder saved it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftPage {
    /// Page id (a UUID in practice; any non-empty string is accepted).
    pub id: String,
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `{ "content": [component...], "root": {...} }`; anything else is reported.
    #[serde(default, alias = "layoutData")]
    pub layout_data: Value,
    #[serde(default, alias = "seoData")]
    pub seo_data: Option<Value>,
    #[serde(default = "default_true", alias = "isPublic")]
    pub is_public: bool,
    #[serde(default, alias = "isHomepage")]
    pub is_homepage: bool,
}

fn default_true() -> bool {
    true
}

/// The kinds of datasource an edge knows how to query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasourceKind {
    Supabase,
    Neon,
    Planetscale,
    Turso,
    Postgres,
    Mysql,
    Sqlite,
}

impl DatasourceKind {
    /// The name used on the wire (`"supabase"`, `"neon"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Supabase => "supabase",
            Self::Neon => "neon",
            Self::Planetscale => "planetscale",
            Self::Turso => "turso",
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

/// A public datasource config: only what is safe to publish.
///
/// Serialises in the contract's camelCase shape (`anonKey`, `secretEnvVar`); deserialises from
/// either spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Datasource {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: DatasourceKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, alias = "anon_key", skip_serializing_if = "Option::is_none")]
    pub anon_key: Option<String>,
    #[serde(
        default,
        alias = "secret_env_var",
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_env_var: Option<String>,
}

/// Project-wide values every compiled page carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectContext {
    #[serde(default = "default_tenant", alias = "tenantSlug")]
    pub tenant_slug: String,
    /// Non-secret app variables; the caller is responsible for leaving secrets out.
    #[serde(default, alias = "appVariables")]
    pub app_variables: Option<Map<String, Value>>,
}

fn default_tenant() -> String {
    DEFAULT_TENANT.to_owned()
}

impl Default for ProjectContext {
    fn default() -> Self {
        Self {
            tenant_slug: default_tenant(),
            app_variables: None,
        }
    }
}

/// Everything one project compile needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectInput {
    #[serde(default)]
    pub pages: Vec<DraftPage>,
    #[serde(default)]
    pub datasources: Vec<Datasource>,
    #[serde(default)]
    pub context: ProjectContext,
}

/// Tunables of a compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    /// Largest accepted serialized `layout_data` of one page, in bytes.
    pub max_layout_bytes: usize,
    /// Most components in one page, and deepest nesting: beyond them a page is not compiled
    /// (an error), so a compile's memory stays bounded.
    pub max_components: usize,
    pub max_depth: usize,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            max_layout_bytes: DEFAULT_MAX_LAYOUT_BYTES,
            max_components: 5_000,
            max_depth: 32,
        }
    }
}

/// Component types an edge renders; anything else earns a warning.
pub const KNOWN_COMPONENT_TYPES: &[&str] = &[
    "Text",
    "Heading",
    "Image",
    "Badge",
    "Divider",
    "Spacer",
    "Icon",
    "Avatar",
    "Label",
    "MarkdownContent",
    "Button",
    "Link",
    "Tabs",
    "Accordion",
    "Modal",
    "Dropdown",
    "Toggle",
    "Checkbox",
    "Radio",
    "DataTable",
    "Form",
    "InfoList",
    "Chart",
    "Grid",
    "KPICard",
    "Container",
    "Row",
    "Column",
    "Section",
    "Card",
    "Panel",
];

/// Whether `ty` is one of [`KNOWN_COMPONENT_TYPES`] (case-sensitive, as the edge matches).
pub fn is_known_type(ty: &str) -> bool {
    KNOWN_COMPONENT_TYPES.contains(&ty)
}
