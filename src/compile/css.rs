//! The per-page CSS bundle: the base reset, the CSS of the component types the page uses, one
//! rule per styled component, media queries for viewport overrides, then each component's
//! `rawCSS`. The output is minified and depends only on its input, byte for byte.
//!
//! Component rules use the selector `[id="ID"]`: the edge renders a component's id as the
//! element id, and the attribute form needs no escaping rules for ids that start with a digit.
//! Base rules lose to the edge's inline styles anyway; viewport overrides carry `!important`
//! so they win over them, as the edge's own responsive CSS does.

use std::collections::BTreeSet;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::css_minify::minify_css;
use super::css_types::{type_css, BASE_CSS};
use super::sanitize::{is_clean, sanitize_css};

/// Phones: up to 767px wide.
pub const MOBILE_MEDIA: &str = "@media(max-width:767px)";
/// Tablets: 768px to 1023px wide.
pub const TABLET_MEDIA: &str = "@media(min-width:768px) and (max-width:1023px)";

/// Properties whose bare numbers are not lengths, so they get no `px`.
const UNITLESS: [&str; 18] = [
    "opacity",
    "z-index",
    "flex",
    "flex-grow",
    "flex-shrink",
    "order",
    "line-height",
    "font-weight",
    "grid-column",
    "grid-row",
    "grid-area",
    "grid-column-start",
    "grid-column-end",
    "grid-row-start",
    "grid-row-end",
    "column-count",
    "fill-opacity",
    "stroke-opacity",
];

/// One component's share of the bundle, borrowed from a normalised layout. Serialises as
/// `{id?, styles?, type?}` (canonical order), the element of [`css_input`].
#[derive(Clone, Copy)]
pub(crate) struct CssEntry<'a> {
    id: Option<&'a Value>,
    ty: Option<&'a Value>,
    styles: Option<&'a Value>,
}

impl<'a> CssEntry<'a> {
    fn of(m: &'a Map<String, Value>) -> Self {
        Self {
            id: m.get("id"),
            ty: m.get("type"),
            styles: m.get("styles"),
        }
    }
}

impl Serialize for CssEntry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in [("id", self.id), ("styles", self.styles), ("type", self.ty)] {
            if let Some(v) = value {
                map.serialize_entry(key, v)?;
            }
        }
        map.end()
    }
}

/// What the bundle depends on, in document order: `[{id?, type?, styles?}]` for each component
/// of a normalised `content` array. Hashing this (not the whole layout) keys the cache, so a
/// text edit does not rebuild a page's CSS.
pub fn css_input(content: &Value) -> Value {
    serde_json::to_value(css_entries(content)).unwrap_or_default()
}

/// [`css_input`] without copying: the entries borrow from `content`.
pub(crate) fn css_entries(content: &Value) -> Vec<CssEntry<'_>> {
    let mut out = Vec::new();
    if let Some(items) = content.as_array() {
        collect(items, &mut out);
    }
    out
}

fn collect<'a>(items: &'a [Value], out: &mut Vec<CssEntry<'a>>) {
    for item in items.iter().filter_map(Value::as_object) {
        out.push(CssEntry::of(item));
        if let Some(children) = item.get("children").and_then(Value::as_array) {
            collect(children, out);
        }
    }
}

/// Builds the bundle from a [`css_input`] value.
pub fn build_css_bundle(input: &Value) -> String {
    let entries: Vec<CssEntry<'_>> = input
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_object)
                .map(CssEntry::of)
                .collect()
        })
        .unwrap_or_default();
    build_bundle(&entries)
}

/// Builds the bundle of a page's entries.
pub(crate) fn build_bundle(entries: &[CssEntry<'_>]) -> String {
    let mut css = String::from(BASE_CSS);
    let types: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e.ty.and_then(Value::as_str))
        .collect();
    for ty in types {
        if let Some(rules) = type_css(ty) {
            css.push_str(rules);
        }
    }

    let (mut tablet, mut mobile, mut raw) = (String::new(), String::new(), String::new());
    for entry in entries {
        let Some(id) = entry.id.and_then(Value::as_str) else {
            continue;
        };
        let Some(styles) = entry.styles.and_then(Value::as_object) else {
            continue;
        };
        let selector = id_selector(id);
        let values = |key: &str| styles.get(key).and_then(Value::as_object);
        push_rule(&mut css, &selector, values("values"), false);
        let overrides = values("viewportOverrides");
        let viewport = |name: &str| {
            overrides
                .and_then(|o| o.get(name))
                .and_then(Value::as_object)
        };
        push_rule(&mut tablet, &selector, viewport("tablet"), true);
        push_rule(&mut mobile, &selector, viewport("mobile"), true);
        if let Some(text) = styles.get("rawCSS").and_then(Value::as_str) {
            let text = sanitize_css(&minify_css(&sanitize_css(text)));
            if text.contains('{') {
                raw.push_str(&text);
            } else if !text.is_empty() {
                // A stray `}` in a declaration list would end the scope early.
                let text = text.replace('}', "");
                let text = text.trim_end_matches(';');
                raw.push_str(&format!("{selector}{{{text}}}"));
            }
        }
    }
    for (media, rules) in [(TABLET_MEDIA, tablet), (MOBILE_MEDIA, mobile)] {
        if !rules.is_empty() {
            css.push_str(&format!("{media}{{{rules}}}"));
        }
    }
    css.push_str(&raw);
    css
}

/// `[id="..."]`, escaping everything but `[A-Za-z0-9_-]` so no id can end the selector.
pub fn id_selector(id: &str) -> String {
    let mut out = String::from("[id=\"");
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", u32::from(c)));
        }
    }
    out.push_str("\"]");
    out
}

fn push_rule(
    css: &mut String,
    selector: &str,
    values: Option<&Map<String, Value>>,
    important: bool,
) {
    let Some(values) = values else { return };
    let mut decls = Vec::new();
    let mut keys: Vec<&String> = values.keys().collect();
    keys.sort();
    for key in keys {
        if let Some(value) = values.get(key) {
            declarations(key, value, &mut decls);
        }
    }
    if decls.is_empty() {
        return;
    }
    let body: Vec<String> = decls
        .into_iter()
        .map(|(p, v)| {
            let already = v.to_ascii_lowercase().trim_end().ends_with("!important");
            if important && !already {
                format!("{p}:{v}!important")
            } else {
                format!("{p}:{v}")
            }
        })
        .collect();
    css.push_str(&format!("{selector}{{{}}}", body.join(";")));
}

/// The declarations one style entry turns into (mirroring how the edge reads values).
fn declarations(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let mut emit = |prop: &str, v: &Value| {
        if let Some(text) = format_value(prop, v) {
            out.push((prop.to_owned(), text));
        }
    };
    match (key, value) {
        ("className", _) => {}
        ("size", Value::Object(size)) => {
            for (dim, unit_key) in [("width", "widthUnit"), ("height", "heightUnit")] {
                let Some(amount) = size.get(dim).filter(|v| v.as_str() != Some("auto")) else {
                    continue;
                };
                let unit = size.get(unit_key).and_then(Value::as_str).unwrap_or("px");
                if let Some(amount) = scalar_text(amount) {
                    emit(dim, &Value::String(format!("{amount}{unit}")));
                }
            }
        }
        ("padding" | "margin", Value::Object(sides)) => {
            for side in ["top", "right", "bottom", "left"] {
                if let Some(v) = sides.get(side) {
                    emit(&format!("{key}-{side}"), v);
                }
            }
        }
        ("horizontalAlign", Value::String(align)) => {
            let (left, right) = match align.as_str() {
                "center" => ("auto", "auto"),
                "right" => ("auto", "0"),
                _ => ("0", "auto"),
            };
            emit("margin-left", &Value::String(left.to_owned()));
            emit("margin-right", &Value::String(right.to_owned()));
        }
        (_, Value::String(_) | Value::Number(_)) => {
            if let Some(prop) = css_property(key) {
                emit(&prop, value);
            }
        }
        _ => {}
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `camelCase` → `kebab-case` (`WebkitX` and `msX` gain their leading dash); custom properties
/// keep their case. `None` for anything that is not a plausible property name.
pub fn css_property(key: &str) -> Option<String> {
    if let Some(name) = key.strip_prefix("--") {
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        return ok.then(|| key.to_owned());
    }
    let mut out = String::with_capacity(key.len() + 4);
    if key.starts_with("ms") && key[2..].starts_with(|c: char| c.is_ascii_uppercase()) {
        out.push('-');
    }
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    let body = out.trim_start_matches('-');
    let ok = out.len() - body.len() <= 1
        && body.starts_with(|c: char| c.is_ascii_lowercase())
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(out)
}

fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let frac = parts.next();
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// The CSS text of a value, with `px` added to bare lengths; `None` for a value that could
/// escape its declaration (braces, semicolons, angle brackets, comments, open strings).
fn format_value(prop: &str, value: &Value) -> Option<String> {
    let text = scalar_text(value)?;
    if !is_safe_value(&text) {
        return None;
    }
    if is_plain_number(&text) && !prop.starts_with("--") && !UNITLESS.contains(&prop) {
        return Some(format!("{text}px"));
    }
    Some(text)
}

fn is_safe_value(text: &str) -> bool {
    if text.contains(['{', '}', ';', '<', '>', '\n', '\r']) || text.contains("/*") {
        return false;
    }
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match (quote, c) {
            _ if escaped => escaped = false,
            (_, '\\') => escaped = true,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    quote.is_none() && !escaped && is_clean(text)
}
