//! Subscriber endpoints of outgoing publish events, their delivery log, redelivery and the
//! test event.

use crate::api::access::{load, Need};
use crate::api::admin::audit::{audited, Did};
use crate::api::bodies::EndpointPatch;
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody, PageQuery, Query};
use crate::api::routes::{resource, Routes};
use crate::api::{merge_patch, AppState, Paginated};
use crate::audit::Summary;
use crate::domain::webhook::{Endpoint, EndpointInput};
use crate::domain::FieldError;
use crate::store::deliveries::Delivery;
use crate::webhooks::{events, generate_secret};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create])
        .add(resource![get, patch, delete])
        .add(resource![deliveries])
        .add(resource![send_test])
        .add(resource![redeliver]);
}

/// An endpoint, with its signing secret when it was just made (shown this once). The answer
/// to a create has the full `url`; every other answer masks its path.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointSaved {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_<base64 key>`: verify events with it. Present only when created or replaced
    /// (a new URL origin gets a new secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

async fn endpoint(state: &AppState, auth: &Auth, id: &str) -> Result<Endpoint, ApiError> {
    load(auth, Need::Admin, "webhook endpoint", id, |id| {
        state.store.get_endpoint(id)
    })
    .await
}

/// Validates an input, the address policy included.
fn checked(state: &AppState, input: EndpointInput) -> Result<EndpointInput, ApiError> {
    let (input, url) = input.validate().map_err(ApiError::Validation)?;
    allowed(state, input, &url)
}

/// A checked endpoint whose URL the address policy lets events go to.
fn allowed(
    state: &AppState,
    input: EndpointInput,
    url: &url::Url,
) -> Result<EndpointInput, ApiError> {
    state.net_policy().check_url(url).map_err(|e| {
        ApiError::Validation(vec![FieldError {
            path: "/url".into(),
            code: "address_refused",
            message: e.message,
        }])
    })?;
    Ok(input)
}

#[utoipa::path(get, operation_id = "listWebhookEndpoints", summary = "A project's publish-event subscriber endpoints",
    path = "/api/projects/{project}/webhook-endpoints", tag = "webhooks",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Vec<Endpoint>, description = "Never the secrets"), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(state.store.list_endpoints(project.id).await?))
}

/// Subscribes a URL to publish events. The response shows the endpoint's signing secret
/// once.
#[utoipa::path(post, operation_id = "createWebhookEndpoint", path = "/api/projects/{project}/webhook-endpoints", tag = "webhooks",
    request_body = EndpointInput, params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 201, body = EndpointSaved), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<EndpointInput>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let (input, url) = body.take_valid(|b| b.validate())?;
    let input = allowed(&state, input, &url)?;
    let secret = generate_secret();
    let mut endpoint = audited(&state, &req, &auth, async {
        let endpoint = state
            .store
            .create_endpoint(project.id, &input, &secret)
            .await?;
        let summary = Summary::of(&endpoint);
        let did = Did::new(
            "webhook_endpoint.create",
            Some(project.id),
            endpoint.id,
            summary,
        );
        Ok((endpoint, did))
    })
    .await?;
    // The full URL, like the secret, is shown this once; reads mask its path.
    endpoint.url = input.url;
    Ok(HttpResponse::Created().json(EndpointSaved {
        endpoint,
        secret: Some(secret),
    }))
}

#[utoipa::path(get, operation_id = "getWebhookEndpoint", summary = "Read a subscriber endpoint",
    path = "/api/webhook-endpoints/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(endpoint(&state, &auth, &path).await?))
}

/// Changes an endpoint (JSON merge patch). Enabling a disabled endpoint clears why it was
/// disabled; a URL with another origin gets a new secret, returned once.
#[utoipa::path(patch, operation_id = "patchWebhookEndpoint", path = "/api/webhook-endpoints/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    request_body(content = EndpointPatch, description = "JSON merge patch of the endpoint's fields"),
    responses((status = 200, body = EndpointSaved), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<EndpointPatch>,
) -> Result<HttpResponse, ApiError> {
    let old = endpoint(&state, &auth, &path).await?;
    let old_url = state.store.endpoint_url(old.id).await?;
    let input = checked(
        &state,
        merge_patch(&old.input(old_url.clone()), body.take()?.0)?,
    )?;
    let moved = crate::domain::settings::secret_origin(&input.url)
        != crate::domain::settings::secret_origin(&old_url);
    let url_changed = input.url != old_url;
    let secret = moved.then(generate_secret);
    let endpoint = audited(&state, &req, &auth, async {
        let endpoint = state
            .store
            .update_endpoint(old.id, &input, secret.as_deref())
            .await?;
        let mut summary = Summary::changes(&old, &endpoint).secret("secret", moved);
        if url_changed {
            summary = summary.changed("url", Value::String(endpoint.url.clone()));
        }
        let did = Did::new(
            "webhook_endpoint.update",
            Some(old.project_id),
            old.id,
            summary,
        );
        Ok((endpoint, did))
    })
    .await?;
    Ok(HttpResponse::Ok().json(EndpointSaved { endpoint, secret }))
}

#[utoipa::path(delete, operation_id = "deleteWebhookEndpoint", summary = "Delete a subscriber endpoint",
    path = "/api/webhook-endpoints/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted with its pending deliveries"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let e = endpoint(&state, &auth, &path).await?;
    audited(&state, &req, &auth, async {
        state.store.delete_endpoint(e.id).await?;
        let did = Did::new(
            "webhook_endpoint.delete",
            Some(e.project_id),
            e.id,
            Summary::none(),
        );
        Ok(((), did))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The endpoint's deliveries, newest first, each with its attempts (status code, latency,
/// error, next attempt).
#[utoipa::path(get, operation_id = "listWebhookDeliveries", path = "/api/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = uuid::Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<Delivery>), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    query: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let e = endpoint(&state, &auth, &path).await?;
    let mut w = query.take()?.window();
    w.limit = w.limit.min(100);
    let (items, total) = state.store.list_deliveries(e.id, w).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

fn disabled(e: &Endpoint) -> Result<(), ApiError> {
    if e.enabled {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: "endpoint_disabled",
        message: "the endpoint is disabled; enable it first".into(),
        path: "/enabled",
    })
}

/// Sends a message to its endpoint once more, as a new delivery with a fresh schedule.
#[utoipa::path(post, operation_id = "redeliverWebhookDelivery", path = "/api/webhook-deliveries/{id}/redeliver", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 202, body = Delivery), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redeliver(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = load(&auth, Need::Admin, "webhook delivery", &path, |id| {
        state.store.get_delivery(id)
    })
    .await?;
    disabled(&state.store.get_endpoint(d.endpoint_id).await?)?;
    let again = audited(&state, &req, &auth, async {
        let again = state.store.redeliver(&d).await?;
        let did = Did::new(
            "webhook_delivery.redeliver",
            Some(d.project_id),
            d.id,
            Summary::none(),
        );
        Ok((again, did))
    })
    .await?;
    state.publish.hooks_wake.notify_one();
    Ok(HttpResponse::Accepted().json(again))
}

/// Sends a `webhook.test` event to this endpoint only.
#[utoipa::path(post, operation_id = "testWebhookEndpoint", path = "/api/webhook-endpoints/{id}/test", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 202, body = Delivery), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn send_test(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let e = endpoint(&state, &auth, &path).await?;
    disabled(&e)?;
    let event = events::test_event(e.project_id, e.id, state.store.now());
    let d = audited(&state, &req, &auth, async {
        let mut tx = state.store.begin().await?;
        state
            .store
            .enqueue_event(
                &mut tx,
                e.project_id,
                event.id,
                event.kind,
                &event.payload,
                Some(e.id),
            )
            .await?;
        tx.commit().await?;
        let d = state.store.message_delivery(event.id).await?;
        let (project, id) = (Some(e.project_id), e.id);
        let none = Summary::none();
        let did = Did::new("webhook_endpoint.test", project, id, none);
        Ok((d, did))
    })
    .await?;
    // After the commit, so the deliverer finds the delivery.
    state.publish.hooks_wake.notify_one();
    Ok(HttpResponse::Accepted().json(d))
}
