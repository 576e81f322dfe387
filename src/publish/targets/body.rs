//! A compiled page as targets write it: the bytes the compiler stored, with the publisher's
//! stamps. Targets slice the members they need out of those bytes; nothing is parsed into a
//! tree and serialised again.

/// Why a target could not have a compiled page: the reader failed (the control plane's own
/// storage, carried through the target unchanged so the job can tell an outage from a bug), or
/// a stored page is malformed.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("reading compiled pages failed: {0}")]
    Read(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("{0}")]
    Malformed(String),
}

/// One stamped compiled page.
#[derive(Debug, Clone)]
pub struct PageBody {
    /// The compiled page's canonical JSON as stored (`version` 1, no `publishedAt`).
    pub blob: String,
    pub version: i64,
    pub published_at: String,
}

/// The top-level members of a page, as raw JSON slices of its bytes (values are skipped
/// over, not parsed).
pub struct Members<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Members<'a> {
    /// The raw JSON of `key`, unless absent or null.
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .filter(|text| *text != "null")
    }

    /// The string at `key`, decoded.
    pub fn text(&self, key: &str) -> Option<String> {
        self.raw(key).and_then(|t| serde_json::from_str(t).ok())
    }

    /// The boolean at `key`.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.raw(key).and_then(|t| serde_json::from_str(t).ok())
    }
}

impl PageBody {
    /// The page's members, sliced from its bytes.
    pub fn members(&self) -> Result<Members<'_>, BodyError> {
        crate::pagebytes::members::members(&self.blob)
            .map(Members)
            .ok_or_else(|| BodyError::Malformed("a compiled page is not a JSON object".into()))
    }

    /// The whole page with its stamps, as the edge's import reads it.
    pub fn stamped(&self) -> Result<String, BodyError> {
        crate::pagebytes::stamped(&self.blob, self.version, &self.published_at)
            .map_err(|e| BodyError::Malformed(format!("a compiled page does not parse: {e}")))
    }
}
