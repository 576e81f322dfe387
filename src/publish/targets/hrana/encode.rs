//! Hrana requests assembled as bytes: statements are serialised once and spliced into
//! transactions, so a caller can keep each request under a size limit exactly. A test checks
//! the assembly equals the `libsql-hrana` crate's own serialisation.

use crate::publish::targets::pages_db::SqlValue;
use libsql_hrana::proto::{BatchCond, Stmt};

/// The JSON of a list of arguments without the brackets: `{"type":…},{"type":…}`, written
/// straight from the values (a page's text is escaped once, not copied into a Hrana value
/// first); a test checks it equals the crate's serialisation.
pub fn encode_args(args: &[SqlValue]) -> Vec<u8> {
    let hint = |a: &SqlValue| match a {
        SqlValue::Text(t) => t.len() + 32,
        _ => 48,
    };
    let mut out = Vec::with_capacity(args.iter().map(hint).sum());
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match a {
            SqlValue::Null => out.extend_from_slice(br#"{"type":"null"}"#),
            SqlValue::Integer(n) => {
                out.extend_from_slice(br#"{"type":"integer","value":""#);
                out.extend_from_slice(n.to_string().as_bytes());
                out.extend_from_slice(br#""}"#);
            }
            SqlValue::Text(t) => {
                out.extend_from_slice(br#"{"type":"text","value":"#);
                // Serialising a string into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut out, t.as_str());
                out.push(b'}');
            }
        }
    }
    out
}

/// A statement's JSON with already-encoded arguments spliced in.
pub fn encode_stmt(sql: &str, args_json: &[u8], want_rows: bool) -> Vec<u8> {
    let empty = serde_json::to_vec(&Stmt::new(sql, want_rows)).unwrap_or_default();
    // `Stmt::new` serialises its empty argument list exactly once as `"args":[]`.
    let marker = b"\"args\":[]";
    match empty.windows(marker.len()).position(|w| w == marker) {
        Some(at) => {
            let mut out = Vec::with_capacity(empty.len() + args_json.len());
            out.extend_from_slice(&empty[..at + marker.len() - 1]);
            out.extend_from_slice(args_json);
            out.extend_from_slice(&empty[at + marker.len() - 1..]);
            out
        }
        None => empty,
    }
}

/// A statement's JSON from neutral values.
pub fn stmt(sql: &str, args: &[SqlValue]) -> Vec<u8> {
    encode_stmt(sql, &encode_args(args), true)
}

/// Bytes a transaction adds around its statements (envelope, BEGIN, COMMIT, ROLLBACK and
/// each step's condition), as an upper bound.
pub const TX_OVERHEAD: usize = 1024;
/// Bytes each step adds around its statement, as an upper bound.
pub const STEP_OVERHEAD: usize = 64;

/// A transaction being assembled: `BEGIN IMMEDIATE`, statements each conditional on the one
/// before, `COMMIT` if all succeeded, `ROLLBACK` otherwise.
pub struct TxBuilder {
    steps: Vec<u8>,
    n: u32,
}

impl Default for TxBuilder {
    fn default() -> Self {
        let mut b = TxBuilder {
            steps: Vec::new(),
            n: 0,
        };
        b.step(None, &encode_stmt("BEGIN IMMEDIATE", b"", false));
        b
    }
}

impl TxBuilder {
    fn step(&mut self, cond: Option<BatchCond>, stmt_json: &[u8]) {
        if self.n > 0 {
            self.steps.push(b',');
        }
        self.steps.extend_from_slice(b"{\"condition\":");
        let _ = serde_json::to_writer(&mut self.steps, &cond);
        self.steps.extend_from_slice(b",\"stmt\":");
        self.steps.extend_from_slice(stmt_json);
        self.steps.push(b'}');
        self.n += 1;
    }

    /// Adds a statement that runs only if everything before it succeeded.
    pub fn push(&mut self, stmt_json: &[u8]) {
        let prev = self.n - 1;
        self.step(Some(BatchCond::Ok { step: prev }), stmt_json);
    }

    /// Statements added so far (without BEGIN).
    pub fn len(&self) -> usize {
        self.n as usize - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> usize {
        self.steps.len() + TX_OVERHEAD
    }

    /// The whole pipeline body, ending the transaction either way.
    pub(super) fn finish(mut self) -> (Vec<u8>, u32) {
        let last = self.n - 1;
        self.step(
            Some(BatchCond::Ok { step: last }),
            &encode_stmt("COMMIT", b"", false),
        );
        let commit = self.n - 1;
        self.step(
            Some(BatchCond::Not {
                cond: Box::new(BatchCond::Ok { step: commit }),
            }),
            &encode_stmt("ROLLBACK", b"", false),
        );
        let mut body =
            b"{\"baton\":null,\"requests\":[{\"type\":\"batch\",\"batch\":{\"steps\":[".to_vec();
        body.extend_from_slice(&self.steps);
        body.extend_from_slice(b"],\"replication_index\":null}}]}");
        (body, commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libsql_hrana::proto::Value;
    use std::sync::Arc;

    /// A value as the crate carries it (integers travel as strings): the reference the
    /// hand-written encoding is checked against.
    fn value(v: &SqlValue) -> Value {
        match v {
            SqlValue::Null => Value::Null,
            SqlValue::Integer(n) => Value::Integer { value: *n },
            SqlValue::Text(t) => Value::Text {
                value: Arc::from(t.as_str()),
            },
        }
    }

    #[test]
    fn spliced_statements_equal_the_crates_serialisation() {
        let args = [
            SqlValue::Text("a \"quoted\" ü".into()),
            SqlValue::Integer(i64::MAX),
            SqlValue::Null,
            SqlValue::Text("tab\t, \u{1} and \\".into()),
            SqlValue::Integer(-5),
        ];
        let mut own = Stmt::new("SELECT ?, ?, ?, ?, ?", true);
        for a in &args {
            own.bind(value(a));
        }
        assert_eq!(
            stmt("SELECT ?, ?, ?, ?, ?", &args),
            serde_json::to_vec(&own).unwrap()
        );
        let json: serde_json::Value =
            serde_json::from_slice(&stmt("SELECT ?", &args[1..2])).unwrap();
        assert_eq!(json["args"][0]["value"], "9223372036854775807");
    }

    #[test]
    fn transactions_end_either_way() {
        let mut tx = TxBuilder::default();
        tx.push(&stmt("SELECT 1", &[]));
        tx.push(&stmt("SELECT 2", &[]));
        let (body, commit) = tx.finish();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let steps = json["requests"][0]["batch"]["steps"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(steps.len(), 5);
        assert_eq!(commit, 3);
        assert_eq!(steps[3]["stmt"]["sql"], "COMMIT");
        assert_eq!(
            steps[3]["condition"],
            serde_json::json!({"type": "ok", "step": 2})
        );
        assert_eq!(
            steps[4]["condition"],
            serde_json::json!({"type": "not", "cond": {"type": "ok", "step": 3}})
        );
    }
}
