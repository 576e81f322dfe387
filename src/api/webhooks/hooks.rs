//! The signed publish webhook (Standard Webhooks) that CI systems and the publish button call,
//! and the per-project secrets it is signed with.

use crate::api::access::{load, Need};
use crate::api::admin::audit;
use crate::api::admin::audit::{audited, Did};
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, MaybeJson, RawBody};
use crate::api::publish::jobs::{accepted, check_request, Accepted, PublishBody};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::audit::Summary;
use crate::domain::publish::JobRequest;
use crate::store::publish::Enqueued;
use crate::store::webhooks::WebhookSecretView;
use crate::webhooks::{generate_secret, verify};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub fn routes(r: &mut Routes) {
    r.add(resource![list_secrets, create_secret])
        .add(resource![revoke_secret])
        .add(resource![rotate_secret])
        .add(resource![publish_hook]);
}

/// A new secret: shown this once, never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSecret {
    pub id: Uuid,
    /// `whsec_<base64 key>`, as Standard Webhooks libraries take it.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old secret stays valid, in seconds (default `EDGEPUB_WEBHOOK_GRACE_SECS`).
    #[serde(default, deserialize_with = "crate::domain::opt_integral")]
    #[schema(minimum = 0, maximum = 2592000)]
    pub grace_secs: Option<i64>,
}

impl crate::api::access::Owned for WebhookSecretView {
    fn project_id(&self) -> Uuid {
        self.project_id
    }
}

/// Creates a secret, records `action` and answers 201 with the secret (shown once).
async fn new_secret(
    state: &AppState,
    req: &HttpRequest,
    auth: &Auth,
    action: &'static str,
    project: Uuid,
) -> Result<HttpResponse, ApiError> {
    let secret = generate_secret();
    let view = audited(state, req, auth, async {
        let view = state.store.create_webhook_secret(project, &secret).await?;
        let did = Did::new(action, Some(project), view.id, Summary::of(&view));
        Ok((view, did))
    })
    .await?;
    Ok(HttpResponse::Created().json(CreatedSecret {
        id: view.id,
        secret,
        created_at: view.created_at,
    }))
}

#[utoipa::path(post, operation_id = "createWebhookSecret", summary = "Create a publish-webhook secret (shown once)",
    path = "/api/projects/{project}/webhook-secrets", tag = "webhooks",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 201, body = CreatedSecret, description = "The secret, shown once")))]
pub async fn create_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    new_secret(&state, &req, &auth, "webhook_secret.create", project.id).await
}

#[utoipa::path(get, operation_id = "listWebhookSecrets", summary = "A project's publish-webhook secrets (never the secrets)",
    path = "/api/projects/{project}/webhook-secrets", tag = "webhooks",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Vec<WebhookSecretView>, description = "Never the secrets")))]
pub async fn list_secrets(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(state.store.list_webhook_secrets(project.id).await?))
}

/// Creates a new secret; the old one stays valid for the grace period, so a sender can
/// switch over while both signatures are accepted.
#[utoipa::path(post, operation_id = "rotateWebhookSecret", path = "/api/webhook-secrets/{id}/rotate", tag = "webhooks",
    params(("id" = Uuid, Path)), request_body(content = Option<RotateBody>),
    responses((status = 201, body = CreatedSecret, description = "The new secret, shown once")))]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: MaybeJson<RotateBody>,
) -> Result<HttpResponse, ApiError> {
    let old = load(&auth, Need::Admin, "webhook secret", &path, |id| {
        state.store.get_webhook_secret(id)
    })
    .await?;
    let grace = body
        .take()?
        .unwrap_or_default()
        .grace_secs
        .unwrap_or(state.config.webhook_grace_secs);
    if !(0..=30 * 86_400).contains(&grace) {
        return Err(ApiError::Validation(vec![crate::domain::FieldError {
            path: "/grace_secs".into(),
            code: "out_of_range",
            message: "must be between 0 and 2592000 seconds (30 days)".into(),
        }]));
    }
    let until = state.store.now() + chrono::Duration::seconds(grace);
    let until = old.expires_at.map_or(until, |e| e.min(until));
    let summary = Summary::of(&serde_json::json!({ "expires_at": until }));
    state
        .store
        .atomic(async {
            state.store.expire_webhook_secret(old.id, until).await?;
            let (project, id) = (Some(old.project_id), old.id);
            audit::record(&req, &auth, "webhook_secret.expire", project, id, summary).await?;
            new_secret(&state, &req, &auth, "webhook_secret.rotate", old.project_id).await
        })
        .await
}

#[utoipa::path(delete, operation_id = "deleteWebhookSecret", summary = "Revoke a publish-webhook secret",
    path = "/api/webhook-secrets/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked at once")))]
pub async fn revoke_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = load(&auth, Need::Admin, "webhook secret", &path, |id| {
        state.store.get_webhook_secret(id)
    })
    .await?;
    audited(&state, &req, &auth, async {
        state.store.delete_webhook_secret(s.id).await?;
        let did = Did::new(
            "webhook_secret.revoke",
            Some(s.project_id),
            s.id,
            Summary::none(),
        );
        Ok(((), did))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Starts a publish, authenticated the Standard Webhooks way instead of a bearer token:
/// `webhook-id`, `webhook-timestamp` (Unix seconds, within 5 minutes of now) and
/// `webhook-signature` (`v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, several
/// space-separated during a rotation). The same `webhook-id` returns the same job. A bad
/// signature, a stale timestamp and an unknown project all get the same 401.
#[utoipa::path(post, operation_id = "publishProjectByWebhook", path = "/api/hooks/publish/{project}", tag = "webhooks", security(()),
    params(("project" = String, Path, description = "Project UUID or slug"),
        ("webhook-id" = String, Header), ("webhook-timestamp" = String, Header), ("webhook-signature" = String, Header)),
    request_body(content = Option<PublishBody>, description = "Empty: publish every live page"),
    responses((status = 202, body = Accepted), (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn publish_hook(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let (project, secrets) = state.store.valid_webhook_secrets(&path).await?;
    let id = header(&req, "webhook-id");
    let checked = verify(
        &secrets,
        id,
        header(&req, "webhook-timestamp"),
        header(&req, "webhook-signature"),
        &body.0,
        state.store.now().timestamp(),
    );
    let project = match (project, checked) {
        (Some(p), Ok(())) if id.len() <= 200 => p,
        (_, outcome) => {
            tracing::info!(refused = ?outcome.err(), "publish webhook refused");
            return Err(ApiError::WebhookRefused);
        }
    };
    // Counted once verified, so forged calls cannot spend the project's budget.
    let quota = crate::api::limits::check(&state, &req, project, None).await?;
    let body: PublishBody = if body.0.iter().all(u8::is_ascii_whitespace) {
        PublishBody::default()
    } else {
        crate::api::extract::parse_json(&body.0)?
    };
    check_request(&state, project, &body).await?;
    let request = JobRequest::Publish {
        pages: body.pages,
        force: body.force,
        targets: body.targets,
    };
    let key = format!("webhook:{id}");
    let enqueued = state
        .store
        .atomic(async {
            let enqueued = state
                .store
                .enqueue_job(project, &request, Some(&key), None)
                .await?;
            if let Enqueued::Created(job) = &enqueued {
                let summary = Summary::of(&request);
                audit::record_webhook(&req, request.kind(), project, job.id, summary).await?;
            }
            Ok::<_, ApiError>(enqueued)
        })
        .await?;
    let job = match enqueued {
        Enqueued::Created(job) => {
            // After the commit, so the worker finds the job.
            state.wake_worker.notify_one();
            job
        }
        Enqueued::Existing(job) => job,
        Enqueued::KeyReused => {
            return Err(ApiError::Conflict {
                code: "webhook_id_reused",
                message: "this webhook-id was used for another request".into(),
                path: "",
            })
        }
    };
    Ok(quota.apply(accepted(job)))
}
