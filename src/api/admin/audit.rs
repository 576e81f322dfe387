//! The audit log over HTTP: [`record`], the line a mutating handler adds after its change, in
//! the same `Store::atomic` block (so a change whose entry cannot be written does not happen),
//! and `GET /api/audit` (admin scope) to read it.
//!
//! Most handlers do both through [`audited`]:
//!
//! ```ignore
//! let t = audited(&state, &req, &auth, async {
//!     let t = state.store.update_target(id, &fields).await?;
//!     let did = Did::new("target.update", Some(t.project_id), t.id, Summary::changes(&before, &t));
//!     Ok((t, did))
//! }).await?;
//! ```

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, Query};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::audit::filter::{filter, page, FilterError, Wanted};
use crate::audit::{Actor, Entry, Summary};
use crate::domain::token::Scope;
use crate::store::audit::AuditEntry;
use crate::telemetry::RequestId;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Display;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn routes(r: &mut Routes) {
    r.add(resource![list]);
}

/// What a change did, as its audit entry names it: `action` (`<resource>.<verb>`) on `subject`.
pub struct Did {
    action: &'static str,
    project: Option<Uuid>,
    subject: String,
    summary: Summary,
}

impl Did {
    pub fn new(
        action: &'static str,
        project: Option<Uuid>,
        subject: impl Display,
        summary: Summary,
    ) -> Did {
        Did {
            action,
            project,
            subject: subject.to_string(),
            summary,
        }
    }
}

/// Runs `change` and records the entry it returns in one `Store::atomic` block, so a change
/// whose entry cannot be written does not happen.
pub async fn audited<T>(
    state: &AppState,
    req: &HttpRequest,
    auth: &Auth,
    change: impl std::future::Future<Output = Result<(T, Did), ApiError>>,
) -> Result<T, ApiError> {
    state
        .store
        .atomic(async {
            let (out, did) = change.await?;
            record(req, auth, did.action, did.project, did.subject, did.summary).await?;
            Ok(out)
        })
        .await
}

/// Records that the caller did `action` (`<resource>.<verb>`) to `subject`, with the request
/// id and client address. Call it inside the change's `Store::atomic` block, after the change:
/// its error rolls the change back.
pub async fn record(
    req: &HttpRequest,
    auth: &Auth,
    action: &'static str,
    project: Option<Uuid>,
    subject: impl Display,
    summary: Summary,
) -> Result<(), ApiError> {
    write(
        req,
        Actor::Token(auth.0.token_id),
        action,
        project,
        subject,
        summary,
    )
    .await
}

/// [`record`] for the signed publish webhook, which has no token.
pub async fn record_webhook(
    req: &HttpRequest,
    action: &'static str,
    project: Uuid,
    subject: impl Display,
    summary: Summary,
) -> Result<(), ApiError> {
    write(req, Actor::Webhook, action, Some(project), subject, summary).await
}

async fn write(
    req: &HttpRequest,
    actor: Actor,
    action: &'static str,
    project: Option<Uuid>,
    subject: impl Display,
    summary: Summary,
) -> Result<(), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let entry = Entry {
        actor,
        action,
        project_id: project,
        subject_id: Some(subject.to_string()),
        summary,
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        // The connection's address: a forwarded header could be forged by the caller.
        client_addr: req.peer_addr().map(|a| a.ip().to_string()),
    };
    crate::audit::write(&state.store, &entry).await?;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Project UUID or slug (a deleted project: its UUID).
    pub project: Option<String>,
    /// The acting token's id.
    pub actor: Option<Uuid>,
    /// An action (`project.update`) or a family (`project.*`).
    pub action: Option<String>,
    /// Entries at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Entries per page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, operation_id = "listAuditEntries", summary = "The audit log: who changed what, when",
    path = "/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    q: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let only = auth.list_scope(Scope::Admin)?;
    let q = q.take()?;
    // A project the token may not see is the same 404 as one that does not exist.
    let project_id = match q.project.as_deref() {
        None => only,
        Some(p) => {
            // An id is taken as it is: a deleted project's entries stay readable.
            let id = match Uuid::parse_str(p) {
                Ok(id) => id,
                Err(_) => {
                    state
                        .store
                        .get_project(p)
                        .await
                        .map_err(|e| ApiError::from_store(e, "project"))?
                        .id
                }
            };
            if !auth.sees(id) {
                return Err(ApiError::NotFound("project"));
            }
            Some(id)
        }
    };
    let f = filter(&Wanted {
        project_id,
        actor_id: q.actor,
        action: q.action.as_deref(),
        from: q.from,
        to: q.to,
        cursor: q.cursor.as_deref(),
    })
    .map_err(|e| {
        let (path, code) = match e {
            FilterError::Action => ("action", "bad_action"),
            FilterError::Cursor => ("cursor", "bad_cursor"),
        };
        ApiError::Validation(vec![crate::domain::FieldError {
            path: path.into(),
            code,
            message: e.to_string(),
        }])
    })?;
    let (items, next_cursor) = page(&state.store, &f, q.limit).await?;
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor }))
}
