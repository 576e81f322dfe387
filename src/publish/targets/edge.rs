//! Push-style edges (contract section 4): they own their database and take pages through an
//! import API authenticated with a system key. Such a publish is not atomic: pages are pushed
//! one by one (a bounded number at a time), each retried with backoff on transient failures,
//! and the report says which pages failed. A "Version conflict" answer means the edge holds a
//! version edgepub did not write (drift); a forced publish repairs it. A push import is also
//! what clears the edge's in-memory HTML cache.

use super::{Apply, ApplyReport, PageBody, PageFailure, PublishTarget, SiteSettings, TargetError};
use crate::domain::project::DEFAULT_TENANT;
use crate::net::http::transport_error;
use crate::net::retry::{retry, Backoff};
use crate::net::{ConnError, ErrorKind, NetPolicy, ServerInfo};
use crate::publish::plan::{Held, Removal};
use async_trait::async_trait;
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

pub struct EdgeTarget {
    http: reqwest::Client,
    base: String,
    key: String,
    concurrency: usize,
    backoff: Backoff,
}

/// Reads an answer: 2xx is success; anything else becomes an error of the right kind, with
/// the edge's own short message when it sent one.
async fn answer(res: reqwest::Response, what: &str) -> Result<Value, ConnError> {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let said: String = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let details: Vec<String> = body
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(5)
        .map(|d| {
            format!(
                "{}: {}",
                d["path"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    let kind = match status {
        400 if said.to_ascii_lowercase().contains("version conflict") => ErrorKind::Conflict,
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        429 | 500..=599 => ErrorKind::Protocol,
        _ => ErrorKind::Invalid,
    };
    let mut message = format!("{what} answered HTTP {status}");
    if kind == ErrorKind::Conflict {
        message.push_str(
            ": the edge holds a version edgepub did not write; a forced publish repairs it",
        );
    } else if !said.is_empty() {
        message.push_str(&format!(": {said}"));
    }
    if !details.is_empty() {
        message.push_str(&format!(" ({})", details.join("; ")));
    }
    Err(ConnError::new(kind, message))
}

/// The settings import's body. Every value is a string or null: the edge binds each one
/// straight into a TEXT column and answers 500 to any other JSON type.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsImport<'a> {
    favicon_url: Option<&'a str>,
    logo_url: Option<&'a str>,
    site_name: Option<&'a str>,
    site_description: Option<&'a str>,
    app_url: Option<&'a str>,
    /// The project's form map as JSON text, as the edge's own control plane sends it. edgepub
    /// keeps no forms, so there is none to send.
    auth_forms: Option<String>,
}

fn settings_body(s: &SiteSettings) -> Result<String, ConnError> {
    serde_json::to_string(&SettingsImport {
        favicon_url: s.favicon_url.as_deref(),
        logo_url: s.logo_url.as_deref(),
        site_name: s.site_name.as_deref(),
        site_description: s.site_description.as_deref(),
        app_url: s.app_url.as_deref(),
        auth_forms: None,
    })
    .map_err(|e| {
        ConnError::new(
            ErrorKind::Invalid,
            format!("the settings do not serialise: {e}"),
        )
    })
}

impl EdgeTarget {
    /// Runs per-page calls `concurrency` at a time; failures go to `failed`, the count of
    /// successes is returned.
    async fn bounded<F>(&self, calls: impl Iterator<Item = F>, failed: &mut Vec<PageFailure>) -> u64
    where
        F: std::future::Future<Output = (String, Result<(), ConnError>)>,
    {
        let calls: Vec<F> = calls.collect();
        let results: Vec<(String, Result<(), ConnError>)> = futures_util::stream::iter(calls)
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut ok = 0;
        for (page_id, r) in results {
            match r {
                Ok(()) => ok += 1,
                Err(error) => failed.push(PageFailure { page_id, error }),
            }
        }
        ok
    }

    pub fn new(
        base: &str,
        key: String,
        policy: NetPolicy,
        timeout: Duration,
        concurrency: usize,
        backoff: Backoff,
    ) -> Result<EdgeTarget, ConnError> {
        let url = url::Url::parse(base)
            .map_err(|_| ConnError::new(ErrorKind::Invalid, "the edge URL is not valid"))?;
        policy.check_url(&url)?;
        Ok(EdgeTarget {
            http: policy.http_client(timeout),
            base: url.as_str().trim_end_matches('/').to_string(),
            key,
            concurrency: concurrency.max(1),
            backoff,
        })
    }

    /// Pushes one stamped page: its stored bytes go into the request as they are.
    async fn push(
        &self,
        page_id: &str,
        page: &str,
        force: bool,
    ) -> (String, Result<(), ConnError>) {
        let body = format!("{{\"force\":{force},\"page\":{page}}}");
        let r = self
            .post("/api/import", body.into(), "the edge's import")
            .await;
        (page_id.to_string(), r)
    }

    /// A keyed POST of the JSON `body`, retried with backoff on transient failures.
    async fn post(&self, path: &str, body: bytes::Bytes, what: &str) -> Result<(), ConnError> {
        retry(self.backoff, || async {
            let res = self
                .http
                .post(format!("{}{path}", self.base))
                .header("x-system-key", &self.key)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| transport_error(&e))?;
            answer(res, what).await.map(|_| ())
        })
        .await
    }

    async fn remove(&self, tenant: &str, r: &Removal) -> (String, Result<(), ConnError>) {
        (
            r.page_id.clone(),
            self.remove_slug(tenant, r.slug.as_deref()).await,
        )
    }

    async fn remove_slug(&self, tenant: &str, slug: Option<&str>) -> Result<(), ConnError> {
        let Some(slug) = slug else {
            return Err(ConnError::new(
                ErrorKind::Invalid,
                "the page's slug on the edge is unknown",
            ));
        };
        let mut url = url::Url::parse(&format!("{}/api/import/", self.base))
            .map_err(|_| ConnError::new(ErrorKind::Invalid, "the edge URL is not valid"))?;
        url.path_segments_mut()
            .map_err(|_| ConnError::new(ErrorKind::Invalid, "the edge URL is not valid"))?
            .pop_if_empty()
            .push(slug);
        if tenant != DEFAULT_TENANT {
            url.query_pairs_mut().append_pair("tenant_slug", tenant);
        }
        retry(self.backoff, || async {
            let res = self
                .http
                .delete(url.clone())
                .header("x-system-key", &self.key)
                .send()
                .await
                .map_err(|e| transport_error(&e))?;
            match answer(res, "the edge's unpublish").await {
                // Already gone is what we wanted.
                Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
                other => other.map(|_| ()),
            }
        })
        .await
    }

    async fn settings(&self, tenant: &str, s: &SiteSettings) -> Result<(), ConnError> {
        let body = settings_body(s)?;
        let path = if tenant == DEFAULT_TENANT {
            "/api/import/settings".to_string()
        } else {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("tenant_slug", tenant);
            format!("/api/import/settings?{}", q.finish())
        };
        self.post(&path, body.into(), "the edge's settings import")
            .await
    }
}

#[async_trait]
impl PublishTarget for EdgeTarget {
    fn atomic(&self) -> bool {
        false
    }

    /// `GET /api/health` (no key), then `GET /api/import/status` with `x-system-key`.
    async fn probe(&self) -> Result<ServerInfo, ConnError> {
        let health = self
            .http
            .get(format!("{}/api/health", self.base))
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let body = answer(health, "/api/health")
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => ConnError::new(
                    ErrorKind::NotFound,
                    "no edge at that URL: /api/health answered 404",
                ),
                _ => e,
            })?;
        let status = self
            .http
            .get(format!("{}/api/import/status", self.base))
            .header("x-system-key", &self.key)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        answer(status, "/api/import/status")
            .await
            .map_err(|e| match e.kind {
                ErrorKind::Auth => {
                    ConnError::new(ErrorKind::Auth, "the edge refused the system key")
                }
                ErrorKind::NotFound => ConnError::new(
                    ErrorKind::NotFound,
                    "the edge has no import API (/api/import/status answered 404)",
                ),
                _ => e,
            })?;
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
        Ok(ServerInfo {
            kind: "edge".into(),
            version: text("version"),
            mode: text("provider").or(Some("push".into())),
        })
    }

    /// A push edge's status answer (`{"status": "ok", "ready": true}`) lists no pages, so
    /// what it holds is known only from what edgepub sent it: this checks that the edge
    /// answers and takes the key, then says it cannot tell (the control plane's record of
    /// what was written there is used instead). An empty answer is never read as "no pages".
    async fn held(&self, _tenant: &str) -> Result<Option<HashMap<String, Held>>, ConnError> {
        let res = self
            .http
            .get(format!("{}/api/import/status", self.base))
            .header("x-system-key", &self.key)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        answer(res, "/api/import/status").await?;
        Ok(None)
    }

    async fn apply(&self, a: &Apply<'_>) -> Result<ApplyReport, TargetError> {
        let mut report = ApplyReport::default();
        for refs in a.upserts.chunks(super::pages_db::PAGES_PER_STMT) {
            let pages = a
                .bodies
                .load(refs)
                .await?
                .iter()
                .map(PageBody::stamped)
                .collect::<Result<Vec<_>, _>>()?;
            let pushes = pages
                .iter()
                .zip(refs)
                .map(|(page, r)| self.push(&r.page_id, page, a.force));
            report.written += self.bounded(pushes, &mut report.failed).await;
        }
        let removes = a.deletes.iter().map(|r| self.remove(a.tenant, r));
        report.deleted += self.bounded(removes, &mut report.failed).await;
        report.error = self.settings(a.tenant, a.settings).await.err();
        report.failed.sort_by(|x, y| x.page_id.cmp(&y.page_id));
        Ok(report)
    }
}
