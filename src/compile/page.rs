//! The compiled page (the publish contract, section 3) and the output of a compile.
//!
//! `version` and `publishedAt` belong to the publisher, which sets them with
//! [`CompiledPage::stamp`] once it knows what the target holds. They are left out of the
//! content hash, so the hash says whether the *content* changed.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::diagnostics::Diagnostic;
use super::json::{sha256_hex, Members};
use super::model::Datasource;
use super::routes::RoutingTable;

/// Errors of the compiler's API (problems in drafts are [`Diagnostic`]s instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("no draft page has id {0:?}")]
    PageNotFound(String),
    #[error("version must be at least 1")]
    InvalidVersion,
    #[error(
        "publishedAt must be ISO-8601 UTC ending in 'Z' (2026-11-22T10:00:00.000Z), got {0:?}"
    )]
    InvalidPublishedAt(String),
}

/// A page as edges read it. Serialises to the contract's camelCase JSON with absent fields
/// omitted (never null).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompiledPage {
    pub id: String,
    pub slug: String,
    pub tenant_slug: String,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `{content: [...], root?: {...}}`, normalised.
    pub layout_data: Value,
    #[serde(default)]
    pub seo_data: Option<Value>,
    /// The public configs of the datasources the page's bindings use, sorted by id.
    #[serde(default)]
    pub datasources: Option<Vec<Datasource>>,
    #[serde(default)]
    pub css_bundle: Option<String>,
    /// 1 until stamped.
    pub version: u32,
    /// Empty (and omitted from JSON) until stamped.
    #[serde(default)]
    pub published_at: String,
    pub is_public: bool,
    pub is_homepage: bool,
    #[serde(default)]
    pub content_hash: Option<String>,
    #[serde(default)]
    pub app_variables: Option<Map<String, Value>>,
}

fn datasource_value(ds: &Datasource) -> Value {
    let mut m = Map::new();
    m.insert("id".to_owned(), Value::String(ds.id.clone()));
    m.insert(
        "type".to_owned(),
        Value::String(ds.kind.as_str().to_owned()),
    );
    m.insert("name".to_owned(), Value::String(ds.name.clone()));
    let optional = [
        ("url", &ds.url),
        ("anonKey", &ds.anon_key),
        ("secretEnvVar", &ds.secret_env_var),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            m.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
    Value::Object(m)
}

impl CompiledPage {
    /// The page as contract JSON. Built by hand (rather than derived) so serialising cannot
    /// fail and the hash and the wire form come from one place.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        let mut put = |key: &str, value: Value| {
            m.insert(key.to_owned(), value);
        };
        put("id", Value::String(self.id.clone()));
        put("slug", Value::String(self.slug.clone()));
        put("tenantSlug", Value::String(self.tenant_slug.clone()));
        put("name", Value::String(self.name.clone()));
        if let Some(t) = &self.title {
            put("title", Value::String(t.clone()));
        }
        if let Some(d) = &self.description {
            put("description", Value::String(d.clone()));
        }
        put("layoutData", self.layout_data.clone());
        if let Some(seo) = &self.seo_data {
            put("seoData", seo.clone());
        }
        if let Some(list) = &self.datasources {
            put("datasources", list.iter().map(datasource_value).collect());
        }
        if let Some(css) = &self.css_bundle {
            put("cssBundle", Value::String(css.clone()));
        }
        put("version", Value::from(self.version));
        if !self.published_at.is_empty() {
            put("publishedAt", Value::String(self.published_at.clone()));
        }
        put("isPublic", Value::Bool(self.is_public));
        put("isHomepage", Value::Bool(self.is_homepage));
        if let Some(h) = &self.content_hash {
            put("contentHash", Value::String(h.clone()));
        }
        if let Some(vars) = &self.app_variables {
            put("appVariables", Value::Object(vars.clone()));
        }
        Value::Object(m)
    }

    /// SHA-256 hex of the canonical JSON of everything published except `version`,
    /// `publishedAt` and `contentHash`.
    pub fn compute_content_hash(&self) -> String {
        let (hashed, _) = self.write_hashed();
        sha256_hex(&hashed)
    }

    /// The page's contract JSON in canonical form (keys sorted, compact), with its content
    /// hash: serialised once, the hash taken over those bytes, and the three unhashed
    /// members spliced in. Byte for byte what `to_value().to_string()` gives for the page
    /// with its hash set (a test compares them on a corpus).
    pub fn to_bytes(&self) -> PageBytes {
        let (hashed, marks) = self.write_hashed();
        let hash = sha256_hex(&hashed);
        let mut body = Vec::with_capacity(hashed.len() + 160);
        body.extend_from_slice(&hashed[..marks.hash]);
        // `hash` is the first member unless `appVariables` came before it.
        if marks.hash == 1 {
            body.extend_from_slice(b"\"contentHash\":\"");
            body.extend_from_slice(hash.as_bytes());
            body.extend_from_slice(b"\",");
        } else {
            body.extend_from_slice(b",\"contentHash\":\"");
            body.extend_from_slice(hash.as_bytes());
            body.push(b'"');
        }
        // Everything from here to `publishedAt` sits `shift` bytes later than it was hashed.
        let shift = body.len() - marks.hash;
        body.extend_from_slice(&hashed[marks.hash..marks.published]);
        if !self.published_at.is_empty() {
            body.extend_from_slice(b",\"publishedAt\":");
            let _ = serde_json::to_writer(&mut body, &self.published_at);
        }
        // Everything after the mark but the closing brace, then `version` (last in order).
        body.extend_from_slice(&hashed[marks.published..hashed.len() - 1]);
        body.extend_from_slice(format!(",\"version\":{}}}", self.version).as_bytes());
        let layout = (marks.layout.0 + shift, marks.layout.1 + shift);
        PageBytes { hash, body, layout }
    }

    /// The hashed members in canonical order, and where the unhashed ones go.
    fn write_hashed(&self) -> (Vec<u8>, Marks) {
        let mut out = Vec::with_capacity(4096);
        let mut m = Members::open(&mut out);
        m.put_some("appVariables", self.app_variables.as_ref());
        let hash = m.out.len();
        m.put_some("cssBundle", self.css_bundle.as_ref());
        if let Some(list) = &self.datasources {
            m.put("datasources", &DatasourceList(list));
        }
        m.put_some("description", self.description.as_ref());
        m.put("id", &self.id);
        m.put("isHomepage", &self.is_homepage);
        m.put("isPublic", &self.is_public);
        let layout = m.put_span("layoutData", &self.layout_data);
        m.put("name", &self.name);
        let published = m.out.len();
        m.put_some("seoData", self.seo_data.as_ref());
        m.put("slug", &self.slug);
        m.put("tenantSlug", &self.tenant_slug);
        m.put_some("title", self.title.as_ref());
        m.close();
        (
            out,
            Marks {
                hash,
                published,
                layout,
            },
        )
    }

    /// Sets what the publisher decides: the version (>= 1) and the publish time
    /// (`YYYY-MM-DDTHH:MM:SS[.fff]Z`). Leaves the page untouched on error.
    pub fn stamp(&mut self, version: u32, published_at: &str) -> Result<(), CompileError> {
        if version == 0 {
            return Err(CompileError::InvalidVersion);
        }
        if !is_utc_timestamp(published_at) {
            return Err(CompileError::InvalidPublishedAt(published_at.to_owned()));
        }
        self.version = version;
        self.published_at = published_at.to_owned();
        Ok(())
    }

    pub fn is_stamped(&self) -> bool {
        !self.published_at.is_empty()
    }
}

impl Serialize for CompiledPage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// A compiled page as the bytes targets and the blob store keep, and its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageBytes {
    pub hash: String,
    pub body: Vec<u8>,
    /// Where `layoutData`'s value starts and ends in `body`: most of a page's bytes, which
    /// readers that slice the page (the cache's values) jump over instead of scanning.
    pub layout: (usize, usize),
}

/// Offsets in the hashed bytes where `contentHash` and `publishedAt` belong.
struct Marks {
    hash: usize,
    published: usize,
    /// Where `layoutData`'s value is.
    layout: (usize, usize),
}

/// A page's datasources in canonical form (members sorted: `anonKey`, `id`, `name`,
/// `secretEnvVar`, `type`, `url`), as [`datasource_value`] shapes them.
struct DatasourceList<'a>(&'a [Datasource]);

impl Serialize for DatasourceList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct One<'a>(&'a Datasource);
        impl Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let ds = self.0;
                let mut map = serializer.serialize_map(None)?;
                if let Some(v) = &ds.anon_key {
                    map.serialize_entry("anonKey", v)?;
                }
                map.serialize_entry("id", &ds.id)?;
                map.serialize_entry("name", &ds.name)?;
                if let Some(v) = &ds.secret_env_var {
                    map.serialize_entry("secretEnvVar", v)?;
                }
                map.serialize_entry("type", ds.kind.as_str())?;
                if let Some(v) = &ds.url {
                    map.serialize_entry("url", v)?;
                }
                map.end()
            }
        }
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for ds in self.0 {
            seq.serialize_element(&One(ds))?;
        }
        seq.end()
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, optional `.` and 1–9 digits, then `Z`; fields range-checked.
fn is_utc_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let shape = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b.last() == Some(&b'Z');
    if !shape {
        return false;
    }
    let fields = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    );
    let (Some(_), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = fields else {
        return false;
    };
    let fraction = &b[19..b.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction[0] == b'.'
            && (2..=10).contains(&fraction.len())
            && fraction[1..].iter().all(u8::is_ascii_digit));
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && sec < 61 && fraction_ok
}

/// Everything one compile produces: pages as trees ([`CompileOutput`]) or as the bytes
/// targets store ([`BytesOutput`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output<P> {
    pub pages: Vec<P>,
    pub routes: RoutingTable,
    pub diagnostics: Vec<Diagnostic>,
}

impl<P> Default for Output<P> {
    fn default() -> Self {
        Self {
            pages: Vec::new(),
            routes: RoutingTable::default(),
            diagnostics: Vec::new(),
        }
    }
}

pub type CompileOutput = Output<CompiledPage>;
pub type BytesOutput = Output<CompiledBytes>;

/// A compiled page reduced to what a publish keeps: its identity and its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompiledBytes {
    pub id: String,
    pub slug: String,
    pub is_homepage: bool,
    #[serde(skip)]
    pub bytes: PageBytes,
}

impl<P> Output<P> {
    /// Whether any diagnostic is an error (the publish must be refused).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The error diagnostics.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl CompileOutput {
    /// The compiled page with id `id`.
    pub fn page(&self, id: &str) -> Option<&CompiledPage> {
        self.pages.iter().find(|p| p.id == id)
    }
}
