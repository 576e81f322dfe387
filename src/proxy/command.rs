//! Turning request bodies and paths into Redis commands.
//!
//! Arguments are kept as raw bytes from here on, so a path segment such as `%FF` reaches Redis
//! as the byte 0xFF rather than being forced through UTF-8. JSON bodies can only carry text;
//! numbers and booleans are sent as their JSON text (`60`, `1.5`, `true`) because that is what
//! Upstash does and what the SDK expects when it passes `{ ex: 60 }` through as a number.

use serde_json::Value as Json;

use super::error::ProxyError;

/// One command: its name followed by its arguments, all as the bytes Redis will receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    parts: Vec<Vec<u8>>,
}

impl Command {
    fn new(parts: Vec<Vec<u8>>) -> Result<Self, ProxyError> {
        match parts.first() {
            None => Err(ProxyError::BadRequest(
                "empty command: expected a JSON array such as [\"GET\", \"key\"]".into(),
            )),
            Some(name) if name.is_empty() => {
                Err(ProxyError::BadRequest("empty command name".into()))
            }
            Some(_) => Ok(Self { parts }),
        }
    }

    /// The command name, upper-cased, for policy checks and messages.
    pub(crate) fn name(&self) -> String {
        self.parts
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }

    /// The arguments after the name.
    pub(crate) fn args(&self) -> &[Vec<u8>] {
        self.parts.get(1..).unwrap_or_default()
    }

    /// The command ready for the redis crate.
    pub(crate) fn to_redis(&self) -> redis::Cmd {
        let mut cmd = redis::Cmd::new();
        for part in &self.parts {
            cmd.arg(part.as_slice());
        }
        cmd
    }
}

/// `POST /` body: one JSON array.
pub(crate) fn parse_single(body: &[u8]) -> Result<Command, ProxyError> {
    match parse_json(body)? {
        Json::Array(items) => command_from_items(items, None),
        other => Err(ProxyError::BadRequest(format!(
            "the body must be a JSON array such as [\"SET\", \"key\", \"value\"], got {}",
            json_kind(&other)
        ))),
    }
}

/// `POST /pipeline` and `/multi-exec` body: a JSON array of command arrays.
pub(crate) fn parse_many(body: &[u8], max_commands: usize) -> Result<Vec<Command>, ProxyError> {
    let items = match parse_json(body)? {
        Json::Array(items) => items,
        other => {
            return Err(ProxyError::BadRequest(format!(
            "the body must be a JSON array of command arrays such as [[\"GET\", \"a\"]], got {}",
            json_kind(&other)
        )))
        }
    };
    if items.is_empty() {
        return Err(ProxyError::BadRequest(
            "empty pipeline: no commands given".into(),
        ));
    }
    if items.len() > max_commands {
        return Err(ProxyError::BadRequest(format!(
            "pipeline has {} commands; the limit is {max_commands}",
            items.len()
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Json::Array(parts) => command_from_items(parts, Some(i)),
            other => Err(ProxyError::BadRequest(format!(
                "command {} of the pipeline must be a JSON array, got {}",
                i + 1,
                json_kind(&other)
            ))),
        })
        .collect()
}

/// Upstash path form: `/set/foo/bar` is `SET foo bar`; a non-empty POST body is one more
/// argument, which is how Upstash lets a value carry characters a URL cannot.
pub(crate) fn from_path(path: &str, body: &[u8]) -> Result<Command, ProxyError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    // A trailing slash is a typing habit, not an intended empty argument.
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut parts: Vec<Vec<u8>> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').map(|s| percent_decode(s, false)).collect()
    };
    if !body.is_empty() {
        parts.push(body.to_vec());
    }
    Command::new(parts)
}

fn parse_json(body: &[u8]) -> Result<Json, ProxyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ProxyError::BadRequest(
            "empty body: expected a JSON array".into(),
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ProxyError::BadRequest(format!("malformed JSON body: {e}")))
}

fn command_from_items(items: Vec<Json>, index: Option<usize>) -> Result<Command, ProxyError> {
    let place = |arg: usize| match index {
        Some(i) => format!("argument {} of command {}", arg + 1, i + 1),
        None => format!("argument {}", arg + 1),
    };
    if items.is_empty() {
        let which = index.map(|i| format!(" (command {})", i + 1));
        return Err(ProxyError::BadRequest(format!(
            "empty command{}: expected a JSON array such as [\"GET\", \"key\"]",
            which.unwrap_or_default()
        )));
    }
    if !matches!(items.first(), Some(Json::String(_))) {
        return Err(ProxyError::BadRequest(format!(
            "{} (the command name) must be a string",
            place(0)
        )));
    }
    let parts = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Json::String(s) => Ok(s.into_bytes()),
            Json::Number(n) => Ok(n.to_string().into_bytes()),
            Json::Bool(b) => Ok(b.to_string().into_bytes()),
            other => Err(ProxyError::BadRequest(format!(
                "{} is {}; expected a string, number or boolean",
                place(i),
                json_kind(&other)
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Command::new(parts)
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Decodes `%XX` escapes into raw bytes; a `%` not followed by two hex digits stays literal.
/// `plus_as_space` applies form encoding, which query strings use and paths do not.
pub(crate) fn percent_decode(input: &str, plus_as_space: bool) -> Vec<u8> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| (*c as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|c| (*c as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                // Two hex digits fit in a byte by construction.
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(c: &Command) -> Vec<String> {
        std::iter::once(c.name())
            .chain(
                c.args()
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned()),
            )
            .collect()
    }

    #[test]
    fn single_with_numbers_and_bools() {
        let c = parse_single(br#"["set","k","v","EX",60,"x",1.5,true]"#).unwrap();
        assert_eq!(strs(&c), ["SET", "k", "v", "EX", "60", "x", "1.5", "true"]);
    }

    #[test]
    fn single_rejects_bad_shapes() {
        for body in [
            &b""[..],
            b"[]",
            b"{}",
            b"[\"get\"",
            b"[1, 2]",
            b"[\"get\", null]",
            b"[\"get\", {}]",
            b"[\"get\", []]",
        ] {
            let err = parse_single(body).unwrap_err();
            assert!(matches!(err, ProxyError::BadRequest(_)), "{body:?}: {err}");
        }
    }

    #[test]
    fn many_limits() {
        assert!(parse_many(b"[]", 10).is_err());
        assert!(parse_many(b"[[\"ping\"],[\"ping\"]]", 1).is_err());
        assert!(parse_many(b"[[\"ping\"],\"ping\"]", 10).is_err());
        assert_eq!(
            parse_many(b"[[\"ping\"],[\"get\",\"a\"]]", 2)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn path_form() {
        let c = from_path("/set/foo/b%2Fa%20r%FF", b"").unwrap();
        assert_eq!(c.name(), "SET");
        assert_eq!(c.args()[1], b"b/a r\xff".to_vec());
        let c = from_path("/set/foo/", b"body").unwrap();
        assert_eq!(c.args(), [b"foo".to_vec(), b"body".to_vec()]);
        assert!(from_path("/", b"").is_err());
    }

    #[test]
    fn percent_edge_cases() {
        assert_eq!(percent_decode("a%2", false), b"a%2");
        assert_eq!(percent_decode("a+b%2B", true), b"a b+");
        assert_eq!(percent_decode("a+b", false), b"a+b");
    }
}
