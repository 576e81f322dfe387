//! Outgoing publish events: the event types a subscriber endpoint can take, and the endpoint
//! as saved and as listed (never with its secret).

use super::{FieldError, Problems};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "publish.succeeded")]
    PublishSucceeded,
    #[serde(rename = "publish.failed")]
    PublishFailed,
    #[serde(rename = "publish.partial")]
    PublishPartial,
    /// The release's cache operations were all applied (or refused by the cache).
    #[serde(rename = "publish.cache_done")]
    PublishCacheDone,
    /// A verification pass found drift the pass before it did not.
    #[serde(rename = "drift.detected")]
    DriftDetected,
    /// A verification pass found no drift after one that did.
    #[serde(rename = "drift.resolved")]
    DriftResolved,
    /// Sent only by "send test event"; not subscribable.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    pub const SUBSCRIBABLE: [EventType; 6] = [
        EventType::PublishSucceeded,
        EventType::PublishFailed,
        EventType::PublishPartial,
        EventType::PublishCacheDone,
        EventType::DriftDetected,
        EventType::DriftResolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PublishSucceeded => "publish.succeeded",
            EventType::PublishFailed => "publish.failed",
            EventType::PublishPartial => "publish.partial",
            EventType::PublishCacheDone => "publish.cache_done",
            EventType::DriftDetected => "drift.detected",
            EventType::DriftResolved => "drift.resolved",
            EventType::WebhookTest => "webhook.test",
        }
    }
}

/// An endpoint as created or replaced.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    #[schema(schema_with = url_field)]
    pub url: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    #[serde(default)]
    #[schema(schema_with = event_types_field)]
    pub event_types: Vec<EventType>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Where events go: `http` or `https`, one token, at most 2000 characters once trimmed.
fn url_field() -> utoipa::openapi::schema::Schema {
    super::patterns::schema(serde_json::json!({
        "type": "string", "pattern": super::patterns::url_token("https?", false),
        "example": "https://ci.example.com/hooks/edgepub",
        "description": "Where events are POSTed (`http` or `https`; no credentials in the URL; at most 2000 characters once trimmed). Changing its origin gives the endpoint a new secret: a secret is only ever sent where it was made for.",
    }))
}

/// The events a subscriber may choose: every type but `webhook.test`, which only "send test
/// event" sends.
fn event_types_field() -> utoipa::openapi::schema::Schema {
    super::patterns::schema(serde_json::json!({
        "type": "array",
        "description": "Event types to receive; empty receives every publish event; repeats are ignored (`webhook.test` is sent only by \"send test event\").",
        "items": {"type": "string", "enum": ["publish.succeeded", "publish.failed", "publish.partial", "publish.cache_done", "drift.detected", "drift.resolved"]},
    }))
}

impl EndpointInput {
    /// Checks the fields; the address policy is the caller's (it depends on configuration).
    pub fn validate(mut self) -> Result<(EndpointInput, url::Url), Vec<FieldError>> {
        let mut p = Problems::default();
        self.url = p.text("/url", &self.url, 2000);
        let one_token = super::url_is_one_token(&self.url);
        let parsed = url::Url::parse(&self.url).ok().filter(|u| {
            one_token
                && matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
        });
        if parsed.is_none() && !self.url.is_empty() {
            p.push(
                "/url",
                "invalid",
                "must be an http:// or https:// URL with a host and no credentials",
            );
        }
        self.description = p
            .opt_text("/description", Some(self.description), 500)
            .unwrap_or_default();
        if self.event_types.contains(&EventType::WebhookTest) {
            p.push(
                "/event_types",
                "invalid",
                "webhook.test is sent only by \"send test event\"",
            );
        }
        let mut seen = Vec::new();
        self.event_types.retain(|t| {
            let new = !seen.contains(t);
            seen.push(*t);
            new
        });
        let url = parsed.unwrap_or_else(|| url::Url::parse("http://invalid").expect("literal"));
        p.finish((self, url))
    }
}

/// What is shown of an endpoint's URL: scheme, host and port, with the path and query masked.
/// Chat and CI webhooks carry their token in the path, so the full URL is a secret, shown
/// only in the answer to the request that created the endpoint.
pub fn mask_url(full: &str) -> String {
    let Ok(u) = url::Url::parse(full) else {
        return "***".into();
    };
    let host = u.host_str().unwrap_or_default();
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    let rest = if u.path() == "/" && u.query().is_none() {
        ""
    } else {
        "***"
    };
    format!("{}://{host}{port}/{rest}", u.scheme())
}

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub project_id: Uuid,
    /// Scheme, host and port, the path masked (`https://hooks.example.com/***`); the full URL
    /// is in the answer to the create only.
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    /// Why edgepub disabled the endpoint (410 Gone, or a message failing through the whole
    /// retry schedule); cleared when it is enabled again.
    pub disabled_reason: Option<String>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    pub fn wants(&self, event: EventType) -> bool {
        self.enabled && (self.event_types.is_empty() || self.event_types.contains(&event))
    }

    /// The endpoint as an input, with its full URL (which the listing masks).
    pub fn input(&self, full_url: String) -> EndpointInput {
        EndpointInput {
            url: full_url,
            description: self.description.clone(),
            event_types: self.event_types.clone(),
            enabled: self.enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> EndpointInput {
        EndpointInput {
            url: url.into(),
            description: String::new(),
            event_types: vec![EventType::PublishFailed, EventType::PublishFailed],
            enabled: true,
        }
    }

    #[test]
    fn urls_and_event_types() {
        let (ok, _) = input(" https://ci.example.com/h ").validate().unwrap();
        assert_eq!(ok.url, "https://ci.example.com/h");
        assert_eq!(ok.event_types, vec![EventType::PublishFailed]);
        for bad in [
            "ftp://x.example",
            "https://user:pw@x.example/",
            "not a url",
            "",
        ] {
            assert!(input(bad).validate().is_err(), "{bad}");
        }
        let mut test = input("https://x.example");
        test.event_types = vec![EventType::WebhookTest];
        assert!(test.validate().is_err());
    }

    #[test]
    fn urls_are_shown_masked() {
        assert_eq!(
            mask_url("https://hooks.slack.com/services/T0/B0/XXXXSECRET?x=1"),
            "https://hooks.slack.com/***"
        );
        assert_eq!(
            mask_url("http://ci.example:8080/"),
            "http://ci.example:8080/"
        );
        assert_eq!(
            mask_url("http://ci.example:8080/t"),
            "http://ci.example:8080/***"
        );
        assert_eq!(mask_url("not a url"), "***");
    }
}
