//! Bearer-token check, as Upstash does it: `Authorization: Bearer <token>` or `?_token=`.
//!
//! Both sides are hashed with SHA-256 before comparing, and the digests are compared without
//! an early exit. Hashing first makes the comparison length-independent (a length mismatch
//! would otherwise leak through timing) and the fold over all 32 bytes removes the
//! byte-by-byte timing signal of `==`.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

/// The configured token, kept only as its digest so it cannot be logged by accident.
#[derive(Clone)]
pub(crate) struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub(crate) fn new(token: &str) -> Self {
        Self(digest(token.as_bytes()))
    }

    /// Whether the presented token matches, in time independent of where they differ.
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        let other = digest(presented);
        let diff = self
            .0
            .iter()
            .zip(other.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        diff == 0
    }

    /// Whether the request carries the right token in either accepted place.
    pub(crate) fn authorizes(&self, req: &HttpRequest) -> bool {
        // Check the header and the query parameter alike, so neither path is a faster oracle.
        let from_header = bearer_token(req).is_some_and(|t| self.matches(t.as_bytes()));
        let from_query = query_token(req.query_string()).is_some_and(|t| self.matches(&t));
        from_header | from_query
    }
}

/// The token a request presents (the header's, else the query's), for tenant tokens.
pub(crate) fn presented(req: &HttpRequest) -> Option<Vec<u8>> {
    bearer_token(req)
        .map(|t| t.as_bytes().to_vec())
        .or_else(|| query_token(req.query_string()))
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The token of an `Authorization: Bearer ...` header; the scheme is case-insensitive.
fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The percent-decoded value of the first `_token` query parameter.
fn query_token(query: &str) -> Option<Vec<u8>> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "_token" && !value.is_empty()).then(|| super::command::percent_decode(value, true))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn header_and_query_forms() {
        let d = TokenDigest::new("s3cr3t");
        let ok = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer s3cr3t"))
            .to_http_request();
        assert!(d.authorizes(&ok));
        let lower = TestRequest::default()
            .insert_header((AUTHORIZATION, "bearer s3cr3t"))
            .to_http_request();
        assert!(d.authorizes(&lower));
        let query = TestRequest::with_uri("/get/k?_token=s3cr3t").to_http_request();
        assert!(d.authorizes(&query));
    }

    #[test]
    fn rejects_wrong_or_missing() {
        let d = TokenDigest::new("s3cr3t");
        let wrong = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer s3cr3"))
            .to_http_request();
        assert!(!d.authorizes(&wrong));
        let basic = TestRequest::default()
            .insert_header((AUTHORIZATION, "Basic s3cr3t"))
            .to_http_request();
        assert!(!d.authorizes(&basic));
        assert!(!d.authorizes(&TestRequest::default().to_http_request()));
        let empty = TestRequest::with_uri("/?_token=").to_http_request();
        assert!(!d.authorizes(&empty));
    }
}
