//! The audit log's values: who acted ([`Actor`]), what one entry records ([`Entry`]) and the
//! redacted [`Summary`] of a change. They live below the store, which writes them, and are
//! built by `crate::audit` and the API.
//!
//! A [`Summary`] can only be built by the functions here, which keep field *names* and show a
//! field's *value* only when the name is on [`SHOWN`] (and then with any `user:password@`
//! stripped from URLs); every other value becomes `"[redacted]"`. So a new secret field,
//! whatever its name, is never written to the log: it has to be added to the allow-list first.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Fields whose values are not secret and may be shown in an audit summary.
pub const SHOWN: &[&str] = &[
    // projects
    "name",
    "slug",
    "description",
    "tenant_slug",
    "site_name",
    "site_description",
    "favicon_url",
    "logo_url",
    "app_url",
    // pages (never their layouts)
    "version",
    // cache settings
    "redis_type",
    "redis_master_name",
    "redis_enabled",
    "cache_mode",
    "cache_ttl_data",
    "cache_ttl_count",
    "cache_ttl_page",
    "cache_ttl_jitter",
    // targets, datasources
    "kind",
    "type",
    "enabled",
    "path",
    "secret_env_var",
    // tokens, webhook secrets
    "scopes",
    "project_id",
    "expires_at",
    "grace_secs",
    // publish jobs and schedules
    "action",
    "at",
    "pages",
    "force",
    "targets",
    "release_id",
    "job_id",
    "state",
    // webhook endpoints (only ever given their masked URL), previews
    "url",
    "event_types",
    "page_id",
    "storage",
    // continuous verification: its schedule and what the verifier repaired
    "interval_secs",
    "repair",
    "next_run_at",
    "keys",
];

pub const REDACTED: &str = "[redacted]";
/// Longest string value shown.
const MAX_TEXT: usize = 200;
/// Most list items shown.
const MAX_ITEMS: usize = 50;

/// Field names, and non-secret values, of what an action created or changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary(Value);

impl Summary {
    /// Nothing beyond the action and subject (a delete, a revoke).
    pub fn none() -> Summary {
        Summary(Value::Object(Map::new()))
    }

    /// Every top-level field of `item` (a created resource, a request).
    pub fn of<T: Serialize>(item: &T) -> Summary {
        let mut out = Map::new();
        if let Ok(Value::Object(fields)) = serde_json::to_value(item) {
            for (name, value) in fields {
                if !matches!(name.as_str(), "id" | "created_at" | "updated_at") {
                    out.insert(name.clone(), shown(&name, value));
                }
            }
        }
        Summary(Value::Object(out))
    }

    /// The top-level fields that differ between `before` and `after` (an update), with their
    /// new values where shown.
    pub fn changes<T: Serialize>(before: &T, after: &T) -> Summary {
        let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
            (serde_json::to_value(before), serde_json::to_value(after))
        else {
            return Summary::none();
        };
        let mut out = Map::new();
        for name in old.keys().filter(|k| !new.contains_key(*k)) {
            out.insert(name.clone(), Value::Null);
        }
        for (name, value) in new {
            if name == "updated_at" || old.get(&name) == Some(&value) {
                continue;
            }
            out.insert(name.clone(), shown(&name, value));
        }
        Summary(Value::Object(out))
    }

    /// Marks a secret field changed (its value is never shown). Views hide secrets, often
    /// behind a hint that does not change with them, so an update names its secrets itself:
    /// `.secret("token", before.token != after.token)`.
    pub fn secret(mut self, field: &str, changed: bool) -> Summary {
        if let (true, Value::Object(fields)) = (changed, &mut self.0) {
            fields.insert(field.to_string(), Value::String(REDACTED.into()));
        }
        self
    }

    /// Names `field` as changed, with `value` where shown: for a change the views cannot tell
    /// apart (a URL whose masked form stayed the same).
    pub fn changed(mut self, field: &str, value: Value) -> Summary {
        if let Value::Object(fields) = &mut self.0 {
            fields.insert(field.to_string(), shown(field, value));
        }
        self
    }

    pub fn value(&self) -> &Value {
        &self.0
    }
}

/// `value` when `field` is on the allow-list and the value is plain (text, number, flag, a
/// short list of those); otherwise `"[redacted]"`. `null` stays `null` (a cleared field).
fn shown(field: &str, value: Value) -> Value {
    if value.is_null() {
        return value;
    }
    if !SHOWN.contains(&field) {
        return Value::String(REDACTED.into());
    }
    plain(value).unwrap_or_else(|| Value::String(REDACTED.into()))
}

fn plain(value: Value) -> Option<Value> {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => Some(value),
        Value::String(s) => Some(Value::String(
            strip_userinfo(&s).chars().take(MAX_TEXT).collect(),
        )),
        Value::Array(items) if items.len() <= MAX_ITEMS => items
            .into_iter()
            .map(|i| match i {
                Value::Array(_) | Value::Object(_) => None,
                other => plain(other),
            })
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        _ => None,
    }
}

/// `scheme://user:password@host…` → `scheme://[redacted]@host…`, anywhere in the text.
pub fn strip_userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Who did it: a token, the signed publish webhook, or edgepub itself (a schedule running).
#[derive(Debug, Clone)]
pub enum Actor {
    Token(Uuid),
    Webhook,
    /// Background work acting for whoever asked for it (a schedule's creator).
    System {
        name: &'static str,
        on_behalf_of: Option<Uuid>,
    },
}

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    /// `<resource>.<verb>` (`project.update`, `schedule.cancel`) or a job kind (`publish`).
    pub action: &'static str,
    pub project_id: Option<Uuid>,
    pub subject_id: Option<String>,
    pub summary: Summary,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_allow_listed_values_are_shown() {
        let s = Summary::of(&json!({
            "name": "Site", "redis_password": "hunter2", "token": {"set": true, "last4": "ter2"},
            "redis_url": "redis://:hunter2@host:6379", "app_url": "https://u:hunter2@example.com/x",
            "pages": ["a", "b"], "scopes": [{"nested": "hunter2"}], "cleared": null, "id": "x",
        }));
        assert_eq!(
            s.value(),
            &json!({
                "name": "Site", "redis_password": REDACTED, "token": REDACTED,
                "redis_url": REDACTED, "app_url": "https://[redacted]@example.com/x",
                "pages": ["a", "b"], "scopes": REDACTED, "cleared": null,
            })
        );
        assert!(!s.value().to_string().contains("hunter2"));
    }

    #[test]
    fn changes_name_only_what_differs() {
        let before = json!({"name": "A", "slug": "a", "token": "old", "updated_at": 1});
        let after = json!({"name": "B", "slug": "a", "token": "new", "updated_at": 2});
        assert_eq!(
            Summary::changes(&before, &after).value(),
            &json!({"name": "B", "token": REDACTED})
        );
    }

    #[test]
    fn a_changed_secret_is_named_never_shown() {
        let hint = json!({"name": "A", "token": {"set": true, "last4": "abcd"}});
        let s = Summary::changes(&hint, &hint)
            .secret("token", true)
            .secret("other", false);
        assert_eq!(s.value(), &json!({"token": REDACTED}));
    }

    #[test]
    fn userinfo_is_stripped_everywhere() {
        assert_eq!(
            strip_userinfo("see redis://a:b@h:1/0 and https://x@y/z?q=1@2"),
            "see redis://[redacted]@h:1/0 and https://[redacted]@y/z?q=1@2"
        );
        assert_eq!(strip_userinfo("no url"), "no url");
    }
}
