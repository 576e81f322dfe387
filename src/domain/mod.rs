//! Types shared by the API and the store, parsed once so invalid values never reach SQL.

pub mod audit;
pub mod datasource;
pub mod page;
pub mod patterns;
pub mod project;
pub mod publish;
pub mod redis_url;
pub mod schedule;
pub mod secret_patch;
pub mod settings;
pub mod slug;
pub mod target;
pub mod token;
pub mod verification;
pub mod webhook;

use serde::Serialize;
use utoipa::ToSchema;

/// An integer field that also takes a number with no fractional part (`60.0`), which JSON
/// Schema (and so the OpenAPI document) counts as an integer.
pub fn integral<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::Deserialize;
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("invalid type: {n}, expected an integer")))
}

/// [`integral`] for an optional field (`null` is `None`).
pub fn opt_integral<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Wrap(#[serde(deserialize_with = "integral")] i64);
    use serde::Deserialize;
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// One failing field, addressed by JSON pointer into the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

/// Whether a URL as written is one token: URL parsers drop tabs and newlines and tolerate
/// spaces, so a stored address could otherwise differ from the one that is used.
pub fn url_is_one_token(url: &str) -> bool {
    !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Collects every problem in a request so the client sees them all at once.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn push(&mut self, path: &str, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            path: path.to_string(),
            code,
            message: message.into(),
        });
    }

    /// Checks a required, bounded text field and returns it trimmed.
    pub fn text(&mut self, path: &str, value: &str, max: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.push(path, "required", "must not be empty");
        } else if v.chars().count() > max {
            self.push(
                path,
                "too_long",
                format!("must be at most {max} characters"),
            );
        }
        v.to_string()
    }

    /// Checks an optional bounded text field; empty strings become `None`.
    pub fn opt_text(&mut self, path: &str, value: Option<String>, max: usize) -> Option<String> {
        let v = value
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())?;
        if v.chars().count() > max {
            self.push(
                path,
                "too_long",
                format!("must be at most {max} characters"),
            );
        }
        Some(v)
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}
