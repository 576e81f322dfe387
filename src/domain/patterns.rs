//! The regular expressions the OpenAPI document gives string fields, kept in the domain beside
//! the checks they mirror (what the server accepts as text, URLs and Redis addresses), so a
//! change to a check has its pattern in view. `api::openapi::pattern_props` tests each
//! published pattern against its check.

/// A field's schema in the document (`#[schema(schema_with = …)]`), written as its JSON: what
/// a derive cannot say (a pattern built from the check's own parts). A schema that does not
/// parse is a bug in this crate, which the committed-document test shows at once.
pub fn schema(v: serde_json::Value) -> utoipa::openapi::schema::Schema {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("a field schema does not parse: {e}"))
}

/// An optional text field matching `pattern`, of at most `max` characters once trimmed (what
/// `maxLength`, counting untrimmed, cannot say).
pub fn optional_text(pattern: String, max: usize) -> utoipa::openapi::schema::Schema {
    schema(serde_json::json!({
        "type": ["string", "null"], "pattern": pattern,
        "description": format!("At most {max} characters once trimmed."),
    }))
}

/// Any text without U+0000.
pub const NO_NUL: &str = "^[^\\u0000]*$";
/// Text that is not blank once trimmed, without U+0000 (a required text field). The class is
/// Rust's `char::is_whitespace` (what `str::trim` removes), not the regex `\\s`, which differs.
pub const NOT_BLANK: &str = "^[^\\u0000]*[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$";
/// Blank text (treated as absent by optional fields).
pub const WS: &str =
    "[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/// Text of 1 to `max` characters once trimmed (or blank too when not `required`), no U+0000.
pub fn trimmed(max: u64, required: bool) -> String {
    let edge = "[^\\u0000\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
    let text = format!("{edge}([^\\u0000]{{0,{}}}{edge})?", max.saturating_sub(2));
    if required {
        format!("^{WS}*{text}{WS}*$")
    } else {
        format!("^{WS}*({text})?{WS}*$")
    }
}

/// A host the `url` crate (WHATWG URL) accepts: an IPv4 address, or dot-separated labels of
/// the ASCII characters it allows in a domain, the last one not a number (all digits, or `0x`
/// and hex digits, which would make the host an IPv4 address): it starts with a non-digit, or
/// has digits then a non-digit other than `x`, or digits other than a lone `0` then `x`, or
/// `0x`, hex digits and then a non-hex character.
pub const HOST: &str = concat!(
    "((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}",
    "|([A-Za-z0-9!\"$&'()*+,;=_`{}~-]+\\.){0,8}",
    "([A-Za-z!\"$&'()*+,;=_`{}~-]",
    "|[0-9]+[A-WYZa-wyz!\"$&'()*+,;=_`{}~-]",
    "|(0[0-9]+|[1-9][0-9]*)[xX]",
    "|0[xX][0-9A-Fa-f]*[G-Zg-z!\"$&'()*+,;=_`{}~-])",
    "[A-Za-z0-9!\"$&'()*+,;=_`{}~-]*)",
);
/// An optional port (0-65535, up to 4 digits with leading zeros), then anything but U+0000 as
/// path, query and fragment (the parser percent-encodes what needs it).
pub const PORT_PATH: &str = concat!(
    "(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?",
    "([/?#][^\\u0000]*)?",
);
/// The same for one Redis URL, where `,` would separate Cluster nodes.
const REDIS_PORT_PATH: &str = concat!(
    "(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?",
    "([/?#][^\\u0000,]*)?",
);

/// `^scheme://host[:port][/path]$` for the given schemes (a regex alternation).
pub fn url_pattern(schemes: &str) -> String {
    format!("^{WS}*({schemes})://{HOST}{PORT_PATH}{WS}*$")
}

/// One `redis://` or `rediss://` URL (a single node, optionally `user:password@`), or blank
/// when `blank`.
pub fn redis_url(blank: bool) -> String {
    let opt = if blank { "?" } else { "" };
    let host = HOST.replace("*+,;", "*+;");
    format!("^{WS}*(rediss?://([^\\u0000@/?#,]*@)?{host}{REDIS_PORT_PATH}){opt}{WS}*$")
}

/// A URL that must be one token (`domain::url_is_one_token`): no whitespace or control
/// character inside, or blank when `blank`.
pub fn url_token(schemes: &str, blank: bool) -> String {
    let opt = if blank { "?" } else { "" };
    let path = PORT_PATH.replace(
        "[^\\u0000]*",
        "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*",
    );
    format!("^{WS}*(({schemes})://{HOST}{path}){opt}{WS}*$")
}

/// The same, or blank (an optional URL field that is treated as absent when blank).
pub fn url_or_blank(schemes: &str) -> String {
    format!("^{WS}*(({schemes})://{HOST}{PORT_PATH})?{WS}*$")
}
