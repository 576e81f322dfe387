//! Each pattern the published document gives a string field, tested against the check in
//! `src/domain` it copies: strings generated from the pattern itself, random strings over an
//! alphabet of the characters the checks treat specially, and crafted edge cases. A pattern is
//! read from the document as served (so a rule that silently stops applying fails here), and
//! run with the `regex` crate.
//!
//! Most patterns must accept exactly what the server accepts ([`Relation::Exact`]). A URL
//! pattern describes a simple written form of what the `url` crate parses, and the server
//! accepts more spellings (upper-case schemes, credentials, IPv6 and international hosts,
//! Sentinel and Cluster addresses): for those, every value the pattern accepts must be
//! accepted ([`Relation::Within`]), so a client that follows the document is never refused.

use super::ApiDoc;
use crate::api::extract::parse_json;
use crate::domain::datasource::DatasourceInput;
use crate::domain::page::{LayoutLimits, PageInput};
use crate::domain::project::ProjectInput;
use crate::domain::schedule::ScheduleState;
use crate::domain::secret_patch::Purpose;
use crate::domain::settings::{CacheSettings, CacheSettingsInput};
use crate::domain::target::TargetInput;
use crate::domain::webhook::EndpointInput;
use crate::domain::{FieldError, Problems};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use regex::Regex;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use utoipa::OpenApi;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Relation {
    /// The pattern accepts a string exactly when the server does.
    Exact,
    /// Whatever the pattern accepts, the server accepts.
    Within,
}

/// One published pattern: where it is in the document, how it relates to its check, the
/// check, and strings worth trying beyond the generated ones.
struct Case {
    pointer: &'static str,
    relation: Relation,
    accepts: fn(&str) -> bool,
    crafted: &'static [&'static str],
}

/// Whether the server takes `value` at `field` of `base`: the body read as the API reads it
/// (U+0000 and wrong types refused), then validated, with no problem reported at the field.
fn takes<T: DeserializeOwned, O>(
    base: Value,
    field: &str,
    value: &str,
    validate: impl Fn(T) -> Result<O, Vec<FieldError>>,
) -> bool {
    let mut body = base;
    body[field] = json!(value);
    let Ok(bytes) = serde_json::to_vec(&body) else {
        return false;
    };
    match parse_json::<T>(&bytes) {
        Err(_) => false,
        Ok(input) => match validate(input) {
            Ok(_) => true,
            Err(errors) => !errors.iter().any(|e| e.path == format!("/{field}")),
        },
    }
}

fn page(field: &str, v: &str) -> bool {
    let base = json!({"slug": "home", "name": "Home"});
    takes(base, field, v, |p: PageInput| {
        p.validate(&LayoutLimits::default())
    })
}

fn project(field: &str, v: &str) -> bool {
    let base = json!({"name": "Site", "slug": "site"});
    takes(base, field, v, |p: ProjectInput| p.validate(true))
}

/// A project created without a slug: the name must also give one.
fn project_derived_name(v: &str) -> bool {
    takes(json!({}), "name", v, |p: ProjectInput| {
        p.validate(false).map_err(|e| {
            e.into_iter()
                .map(|e| renamed(e, "/slug", "/name"))
                .collect()
        })
    })
}

fn renamed(mut e: FieldError, from: &str, to: &str) -> FieldError {
    if e.path == from {
        e.path = to.into();
    }
    e
}

fn datasource(field: &str, v: &str) -> bool {
    let base = json!({"type": "postgres", "name": "main"});
    takes(base, field, v, |d: DatasourceInput| d.validate(None))
}

fn endpoint(field: &str, v: &str) -> bool {
    let base = json!({"url": "https://example.com/hook"});
    takes(base, field, v, |e: EndpointInput| e.validate().map(|_| ()))
}

fn target(base: Value, field: &str, v: &str, purpose: Purpose) -> bool {
    takes(base, field, v, |t: TargetInput| t.validate(None, purpose))
}

fn cache(base: Value, v: &str) -> bool {
    takes(base, "redis_url", v, |c: CacheSettingsInput| {
        c.resolve(&CacheSettings::default(), Purpose::Save)
    })
}

/// The schedule list's `state` filter: empty is no filter, else one of the states.
fn schedule_state(v: &str) -> bool {
    !v.contains('\0') && (v.is_empty() || ScheduleState::parse(v).is_some())
}

mod cases;
use cases::cases;

/// A JSON Schema (ECMA-262) pattern as the `regex` crate reads it: `\uXXXX` escapes become
/// `\x{XXXX}`; the patterns use nothing else the two dialects spell differently.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'u') {
            chars.next();
            let hex: String = chars.by_ref().take(4).collect();
            out.push_str(&format!("\\x{{{hex}}}"));
        } else if c == '\\' {
            out.push(c);
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The patterns (more than one under `allOf`) and length bounds of a schema.
struct Rule {
    patterns: Vec<Regex>,
    min: usize,
    max: usize,
}

impl Rule {
    fn of(schema: &Value) -> Rule {
        let mut rule = Rule {
            patterns: Vec::new(),
            min: 0,
            max: usize::MAX,
        };
        let mut parts = vec![schema];
        if let Some(Value::Array(all)) = schema.get("allOf") {
            parts.extend(all.iter());
        }
        for part in parts {
            if let Some(p) = part.get("pattern").and_then(Value::as_str) {
                let re = Regex::new(&translate(p));
                rule.patterns
                    .push(re.unwrap_or_else(|e| panic!("pattern {p}: {e}")));
            }
            let bound = |key: &str| part.get(key).and_then(Value::as_u64).map(|n| n as usize);
            rule.min = rule.min.max(bound("minLength").unwrap_or(0));
            rule.max = rule.max.min(bound("maxLength").unwrap_or(usize::MAX));
        }
        assert!(!rule.patterns.is_empty(), "no pattern in {schema}");
        rule
    }

    /// JSON Schema's lengths count characters (code points).
    fn matches(&self, s: &str) -> bool {
        let n = s.chars().count();
        self.patterns.iter().all(|p| p.is_match(s)) && (self.min..=self.max).contains(&n)
    }
}

/// Strings a pattern accepts, from its own regex (anchors dropped: proptest cannot generate
/// them, and every pattern here is anchored at both ends or is a plain search).
fn generated(pattern: &str, runner: &mut TestRunner, n: usize) -> Vec<String> {
    let inner = translate(pattern);
    let inner = inner.strip_prefix('^').unwrap_or(&inner);
    let inner = inner.strip_suffix('$').unwrap_or(inner);
    let strategy = proptest::string::string_regex(inner)
        .unwrap_or_else(|e| panic!("cannot generate from {pattern}: {e}"));
    (0..n)
        .filter_map(|_| strategy.new_tree(runner).ok().map(|t| t.current()))
        .collect()
}

/// Random strings over the characters the checks treat specially.
fn random(runner: &mut TestRunner, n: usize) -> Vec<String> {
    const ALPHABET: &[char] = &[
        'a', 'z', 'A', 'Z', 'x', 'X', '0', '9', '-', '_', '.', '/', ':', '@', ',', ' ', '\t', '\n',
        '\u{b}', '\u{a0}', '\u{3000}', '\u{85}', '\u{200b}', '\0', 'é', 'İ', '\u{212a}',
    ];
    let strategy = proptest::collection::vec(proptest::sample::select(ALPHABET), 0..12)
        .prop_map(|cs| cs.into_iter().collect::<String>());
    (0..n)
        .filter_map(|_| strategy.new_tree(runner).ok().map(|t| t.current()))
        .collect()
}

#[test]
fn every_published_pattern_matches_its_domain_check() {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let seed = [7u8; 32];
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let mut failures = Vec::new();
    for case in cases() {
        let schema = doc
            .pointer(case.pointer)
            .unwrap_or_else(|| panic!("{} is not in the document", case.pointer));
        let rule = Rule::of(schema);
        let mut tried: Vec<String> = case.crafted.iter().map(|s| s.to_string()).collect();
        for p in rule.patterns.iter() {
            tried.extend(generated(p.as_str(), &mut runner, 300));
        }
        tried.extend(random(&mut runner, 1500));
        let mut shown = 0;
        for s in tried {
            let pattern = rule.matches(&s);
            let server = (case.accepts)(&s);
            let wrong = match case.relation {
                Relation::Exact => pattern != server,
                Relation::Within => pattern && !server,
            };
            // A few examples per pattern are enough to see what differs.
            if wrong && shown < 4 {
                shown += 1;
                failures.push(format!(
                    "{}: {s:?} pattern {pattern}, server {server}",
                    case.pointer
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn translated_escapes_read_as_the_same_characters() {
    let re = Regex::new(&translate("^[^\\u0000\\u00a0]\\.$")).unwrap_or_else(|e| panic!("{e}"));
    assert!(re.is_match("a."));
    assert!(!re.is_match("\0."));
    assert!(!re.is_match("\u{a0}."));
    assert!(!re.is_match("ab"));
}
