//! The audit log's page cursor: where the next (older) page starts, as an opaque token. Entries
//! are listed newest first by time, then id, so a cursor is the last entry's time and id.

use base64::Engine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The cursor after an entry at `at` with `id`.
pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    let raw = format!("{}|{id}", at.to_rfc3339());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The time and id a cursor names; `None` for anything [`encode`] did not write.
pub fn decode(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    let (at, id) = std::str::from_utf8(&raw).ok()?.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_garbage_is_refused() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T07:00:00.123456Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)), Some((at, id)));
        for bad in ["", "!!", "bm90IGEgY3Vyc29y"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
