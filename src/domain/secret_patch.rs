//! A secret field in a request and the one rule every stored secret follows: it is only ever
//! used with the address (scheme, host, port) it was saved for.
//!
//! Saving a form that names another address without the secret is refused (the secret must
//! be sent again); testing such a form runs without the stored secret, so the test reports
//! `auth` when the server wants credentials and the secret never reaches the new address.

use serde::{Deserialize, Deserializer};

/// A secret field in a request: absent keeps the stored one, `null` clears it, a string sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretPatch {
    #[default]
    Keep,
    Clear,
    Set(String),
}

impl<'de> Deserialize<'de> for SecretPatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<String>::deserialize(d)? {
            None => SecretPatch::Clear,
            Some(s) if s.is_empty() => SecretPatch::Clear,
            Some(s) => SecretPatch::Set(s),
        })
    }
}

/// The part of an address a stored secret is bound to: scheme, host and port of a URL; the
/// whole lower-cased text of anything else (Redis node lists, Sentinel URLs).
pub fn secret_origin(address: &str) -> String {
    match url::Url::parse(address.trim()) {
        Ok(u) if u.host_str().is_some() && !address.contains(',') => format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            u.port_or_known_default().unwrap_or(0)
        ),
        _ => address.trim().to_ascii_lowercase(),
    }
}

/// Why a form is resolved against what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A PUT or PATCH: the result is stored.
    Save,
    /// "Test connection": the form is tried as sent and nothing is stored.
    Test,
}

impl SecretPatch {
    /// The resulting secret, keeping a stored one only for the address it was saved for:
    /// with another address a save must send the secret again, and a test runs without it
    /// (it is never sent elsewhere).
    pub fn apply_at(
        &self,
        stored: Option<String>,
        same_address: bool,
        purpose: Purpose,
        path: &str,
        p: &mut super::Problems,
    ) -> Option<String> {
        match self {
            SecretPatch::Keep if stored.is_some() && !same_address && purpose == Purpose::Test => {
                None
            }
            SecretPatch::Keep if stored.is_some() && !same_address => {
                p.push(
                    path,
                    "secret_required",
                    "the address changed: send the secret again (a stored secret is only ever sent to the address it was saved for)",
                );
                None
            }
            other => other.apply(stored),
        }
    }

    /// The resulting secret given the stored one.
    pub fn apply(&self, stored: Option<String>) -> Option<String> {
        match self {
            SecretPatch::Keep => stored,
            SecretPatch::Clear => None,
            SecretPatch::Set(s) => Some(s.clone()),
        }
    }
}
