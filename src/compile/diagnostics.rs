//! Diagnostics: every problem a compile finds, located by page id and JSON pointer.
//!
//! Codes are part of the API (clients match on them), so variants are only ever added.

use std::fmt;

use serde::Serialize;

/// How bad a problem is. Any error refuses the publish; warnings are advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// The stable machine code of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    // Errors.
    InvalidLayout,
    LayoutTooLarge,
    MissingComponentId,
    MissingComponentType,
    DuplicateComponentId,
    UnknownDatasource,
    InvalidSlug,
    ReservedSlug,
    DuplicateSlug,
    MultipleHomepages,
    DuplicatePageId,
    InvalidTenantSlug,
    SecretInDatasource,
    // Warnings.
    NoHomepage,
    UnknownComponentType,
    ComponentNotObject,
    ChildrenNotArray,
    BindingNotObject,
    MissingDatasourceId,
    MissingTableName,
    IncompleteDatasource,
    UnsupportedFilter,
    UnresolvedRelation,
    InvalidRoot,
    InvalidSeoData,
    DatasourceCredentialsRemoved,
}

impl Code {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidLayout => "invalid_layout",
            Self::LayoutTooLarge => "layout_too_large",
            Self::MissingComponentId => "missing_component_id",
            Self::MissingComponentType => "missing_component_type",
            Self::DuplicateComponentId => "duplicate_component_id",
            Self::UnknownDatasource => "unknown_datasource",
            Self::InvalidSlug => "invalid_slug",
            Self::ReservedSlug => "reserved_slug",
            Self::DuplicateSlug => "duplicate_slug",
            Self::MultipleHomepages => "multiple_homepages",
            Self::DuplicatePageId => "duplicate_page_id",
            Self::InvalidTenantSlug => "invalid_tenant_slug",
            Self::SecretInDatasource => "secret_in_datasource",
            Self::NoHomepage => "no_homepage",
            Self::UnknownComponentType => "unknown_component_type",
            Self::ComponentNotObject => "component_not_object",
            Self::ChildrenNotArray => "children_not_array",
            Self::BindingNotObject => "binding_not_object",
            Self::MissingDatasourceId => "missing_datasource_id",
            Self::MissingTableName => "missing_table_name",
            Self::IncompleteDatasource => "incomplete_datasource",
            Self::UnsupportedFilter => "unsupported_filter",
            Self::UnresolvedRelation => "unresolved_relation",
            Self::InvalidRoot => "invalid_root",
            Self::InvalidSeoData => "invalid_seo_data",
            Self::DatasourceCredentialsRemoved => "datasource_credentials_removed",
        }
    }

    /// The severity a code always carries, so callers cannot disagree about it.
    pub fn severity(self) -> Severity {
        match self {
            Self::InvalidLayout
            | Self::LayoutTooLarge
            | Self::MissingComponentId
            | Self::MissingComponentType
            | Self::DuplicateComponentId
            | Self::UnknownDatasource
            | Self::InvalidSlug
            | Self::ReservedSlug
            | Self::DuplicateSlug
            | Self::MultipleHomepages
            | Self::DuplicatePageId
            | Self::InvalidTenantSlug
            | Self::SecretInDatasource => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem. `page_id` is `None` for project-wide problems (no homepage, a bad datasource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// RFC 6901 pointer into the draft page when `page_id` is set (e.g.
    /// `/layout_data/content/2/children/0/id`), otherwise into the `ProjectInput`
    /// (`/datasources/1/url`, `/context/tenant_slug`, `/pages`).
    pub pointer: String,
    pub severity: Severity,
    pub code: Code,
    pub message: String,
}

impl Diagnostic {
    pub fn new(page_id: Option<&str>, pointer: &str, code: Code, message: String) -> Self {
        Self {
            page_id: page_id.map(str::to_owned),
            pointer: pointer.to_owned(),
            severity: code.severity(),
            code,
            message,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Appends `token` to a JSON pointer, escaping `~` and `/` as RFC 6901 requires.
pub fn push_pointer(base: &str, token: &str) -> String {
    let escaped = token.replace('~', "~0").replace('/', "~1");
    format!("{base}/{escaped}")
}

/// Appends an array index to a JSON pointer.
pub fn push_index(base: &str, index: usize) -> String {
    format!("{base}/{index}")
}

/// Collects diagnostics for one page while a walk goes on.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    page_id: Option<String>,
    pub(crate) items: Vec<Diagnostic>,
}

impl Sink {
    pub(crate) fn for_page(page_id: Option<&str>) -> Self {
        Self {
            page_id: page_id.map(str::to_owned),
            items: Vec::new(),
        }
    }

    pub(crate) fn report(&mut self, pointer: &str, code: Code, message: impl Into<String>) {
        self.items.push(Diagnostic::new(
            self.page_id.as_deref(),
            pointer,
            code,
            message.into(),
        ));
    }
}
