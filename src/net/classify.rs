//! Sorting transport failures into error kinds without leaking driver text.

use super::{ConnError, ErrorKind};

/// Sorts a transport failure by its text and underlying I/O error. Only the kind and a fixed
/// message leave this function, so driver text (which may echo a URL) never reaches a client.
pub fn classify(text: &str, io: Option<std::io::ErrorKind>) -> ConnError {
    use std::io::ErrorKind as Io;
    let t = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    let (kind, message) = if io == Some(Io::ConnectionRefused) || has(&["connection refused"]) {
        (
            ErrorKind::Refused,
            "connection refused: nothing listens on that host and port",
        )
    } else if io == Some(Io::TimedOut) || has(&["timed out", "timeout"]) {
        (ErrorKind::Timeout, "the connection timed out")
    } else if has(&[
        "wrongpass",
        "noauth",
        "invalid password",
        "authentication",
        "unauthorized",
        "invalid username",
    ]) {
        (
            ErrorKind::Auth,
            "authentication failed: check the password or token",
        )
    } else if has(&[
        "tls",
        "certificate",
        "handshake",
        "invalidcontenttype",
        "corrupt message",
        "wrong version number",
    ]) {
        (ErrorKind::Tls, "TLS failed: the server does not speak TLS on that port, or its certificate is not trusted")
    } else if has(&[
        "failed to lookup",
        "dns",
        "name or service not known",
        "no such host",
        "nodename nor servname",
    ]) {
        (ErrorKind::Dns, "the host name does not resolve")
    } else if io == Some(Io::PermissionDenied) || has(&["permission denied"]) {
        (ErrorKind::Permission, "permission denied")
    } else if io == Some(Io::ConnectionReset)
        || has(&[
            "connection reset",
            "broken pipe",
            "unexpected eof",
            "connection closed",
        ])
    {
        (
            ErrorKind::Protocol,
            "the server closed the connection: is this the right kind of server on that port?",
        )
    } else {
        (ErrorKind::Protocol, "the server's answer was not understood: is this the right kind of server on that port?")
    };
    ConnError::new(kind, message)
}

/// The innermost I/O error kind in an error's source chain, if any.
pub fn io_kind(mut e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    loop {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(k) = io_kind(inner) {
                    return Some(k);
                }
            }
            return Some(io.kind());
        }
        e = e.source()?;
    }
}

/// The whole source chain as one string, for classification only (never shown).
pub fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            classify("x", Some(std::io::ErrorKind::ConnectionRefused)).kind,
            ErrorKind::Refused
        );
        assert_eq!(
            classify("WRONGPASS invalid username-password pair", None).kind,
            ErrorKind::Auth
        );
        assert_eq!(
            classify("received corrupt message of type InvalidContentType", None).kind,
            ErrorKind::Tls
        );
        assert_eq!(
            classify("failed to lookup address information", None).kind,
            ErrorKind::Dns
        );
        assert!(!classify("redis://:secret@host", None)
            .message
            .contains("secret"));
    }
}
