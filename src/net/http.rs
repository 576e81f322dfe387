//! HTTP failures as error kinds, shared by every HTTP-speaking peer (Upstash, Turso, edges,
//! webhook receivers).

use super::{chain_text, classify, io_kind, ConnError, ErrorKind};

/// Maps a transport error of the HTTP client to a kind. The address policy's and resolver's
/// own errors keep their kind; everything else is classified without echoing driver text.
pub fn transport_error(e: &reqwest::Error) -> ConnError {
    if e.is_timeout() {
        return ConnError::new(ErrorKind::Timeout, "no answer in time");
    }
    for kind in [ErrorKind::Permission, ErrorKind::Dns] {
        if let Some(inner) = find::<ConnError>(e).filter(|c| c.kind == kind) {
            return inner.clone();
        }
    }
    classify(&chain_text(e), io_kind(e))
}

/// The kind an unexpected HTTP status stands for: 401/403 auth, 404 not found, 5xx and 429
/// protocol (worth retrying), any other 4xx invalid (final).
pub fn status_error(status: u16, what: &str) -> ConnError {
    let kind = match status {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        429 | 500..=599 => ErrorKind::Protocol,
        _ => ErrorKind::Invalid,
    };
    ConnError::new(kind, format!("{what} answered HTTP {status}"))
}

fn find<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(status_error(401, "x").kind, ErrorKind::Auth);
        assert_eq!(status_error(404, "x").kind, ErrorKind::NotFound);
        assert!(status_error(503, "x").kind.is_transient());
        assert!(status_error(429, "x").kind.is_transient());
        assert!(!status_error(400, "x").kind.is_transient());
    }
}
