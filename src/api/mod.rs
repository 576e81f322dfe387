//! The HTTP layer: routes, extractors and error mapping. No SQL and no business rules here.
//!
//! In rooms: `content` (projects, pages, versions, datasources, previews), `settings` (targets,
//! cache, the edge's sync), `publish` (jobs, events, retries, releases, drift, schedules),
//! `webhooks` (the signed hook, outgoing endpoints), `admin` (tokens, audit, health),
//! `openapi` (the document), `console` (the operator console's files). What every room uses
//! lives at this level: the error shape (`error`), extractors (`extract`), authentication
//! (`guard`), access (`access`) and rate limits (`limits`).

pub mod access;
pub mod admin;
pub mod bodies;
pub mod console;
pub mod content;
pub mod error;
pub mod extract;
pub mod guard;
pub mod limits;
pub mod openapi;
pub mod publish;
pub mod routes;
pub mod settings;
pub mod webhooks;

use crate::config::Config;
use crate::store::{Store, Window};
use crate::telemetry::Metrics;
use actix_web::{web, HttpResponse, ResponseError};
use error::ApiError;
use routes::{Resource, Routes};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub metrics: Metrics,
    pub publish: Arc<crate::publish::PublishContext>,
    /// Wakes this process's publish worker when a job is enqueued.
    pub wake_worker: Arc<tokio::sync::Notify>,
}

impl AppState {
    pub fn net_policy(&self) -> crate::net::NetPolicy {
        crate::net::NetPolicy {
            allow_link_local: self.config.allow_link_local,
        }
    }

    pub fn test_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config.test_timeout_secs)
    }

    pub fn target_context(&self) -> &crate::publish::targets::TargetContext {
        &self.publish.targets
    }
}

/// One page of a list, with the total across all pages.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<T> Paginated<T> {
    pub fn new(items: Vec<T>, total: i64, w: Window) -> Self {
        Paginated {
            items,
            total,
            limit: w.limit,
            offset: w.offset,
        }
    }
}

/// Applies a JSON merge patch (RFC 7396) to `current`'s input form and re-reads it, so PATCH
/// goes through exactly the validation PUT does.
pub fn merge_patch<C: Serialize, T: DeserializeOwned>(
    current: &C,
    patch: Value,
) -> Result<T, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::Validation(vec![crate::domain::FieldError {
            path: String::new(),
            code: "invalid_type",
            message: "a merge patch must be a JSON object".into(),
        }]));
    }
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    merge(&mut doc, patch);
    let bytes = serde_json::to_vec(&doc).map_err(ApiError::internal)?;
    extract::parse_json(&bytes)
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// Mounts every route. `/api` routes are authenticated by the scope's middleware first.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let bad_input = |message: String| ApiError::BadRequest {
        code: "bad_request",
        message,
        details: Value::Null,
    };
    cfg.app_data(
        web::QueryConfig::default().error_handler(move |e, _| bad_input(e.to_string()).into()),
    )
    .app_data(
        web::PathConfig::default().error_handler(|_, _| ApiError::NotFound("resource").into()),
    )
    .configure(|cfg| top_level_routes(&mut Routes::new(Some(cfg), "", &mut Vec::new())))
    .service(
        web::scope("/api")
            .wrap(actix_web::middleware::from_fn(guard::authenticate))
            .configure(|cfg| api_routes(&mut Routes::new(Some(cfg), "/api", &mut Vec::new()))),
    )
    .service(openapi::swagger_ui())
    .default_service(web::to(|| async {
        ApiError::NotFound("route").error_response()
    }));
}

/// Everything outside `/api`: probes, preview links, the console and the document itself.
fn top_level_routes(r: &mut Routes) {
    admin::health::routes(r);
    content::previews::public_routes(r);
    console::routes(r);
    r.add(Resource::undocumented("/docs").get(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    }))
    .add(Resource::undocumented("/openapi.json").get(openapi::served_document));
}

/// The rooms, under `/api` (behind authentication).
fn api_routes(r: &mut Routes) {
    content::routes(r);
    settings::routes(r);
    publish::routes(r);
    webhooks::routes(r);
    admin::routes(r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_semantics() {
        let mut doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        merge(
            &mut doc,
            json!({"a": null, "b": {"c": 9}, "e": [2, 3], "f": "new"}),
        );
        assert_eq!(doc, json!({"b": {"c": 9, "d": 3}, "e": [2, 3], "f": "new"}));
    }
}
