//! `/api/projects/{project}/datasources` and `/api/datasources/{id}`.

use crate::api::access::{load, Need};
use crate::api::admin::audit::{audited, Did};
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::audit::Summary;
use crate::domain::datasource::{Datasource, DatasourceInput, DatasourceView};
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create])
        .add(resource![get, replace, delete]);
}

async fn authorized_ds(state: &AppState, auth: &Auth, id: &str) -> Result<Datasource, ApiError> {
    load(auth, Need::Admin, "datasource", id, |id| {
        state.store.get_datasource(id)
    })
    .await
}

#[utoipa::path(get, operation_id = "listDatasources", summary = "A project's datasources",
    path = "/api/projects/{project}/datasources", tag = "datasources",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Vec<DatasourceView>), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let list = state.store.list_datasources(project.id).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(DatasourceView::from).collect::<Vec<_>>()))
}

#[utoipa::path(post, operation_id = "createDatasource", summary = "Create a datasource",
    path = "/api/projects/{project}/datasources", tag = "datasources", request_body = DatasourceInput,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 201, body = DatasourceView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<DatasourceInput>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let f = body.take_valid(|b| b.validate(None))?;
    let view = audited(&state, &req, &auth, async {
        let d = state
            .store
            .create_datasource(project.id, &f)
            .await
            .map_err(|e| ApiError::from_store(e, "project"))?;
        let view = DatasourceView::from(&d);
        let did = Did::new(
            "datasource.create",
            Some(d.project_id),
            d.id,
            Summary::of(&view),
        );
        Ok((view, did))
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, operation_id = "getDatasource", summary = "Read a datasource",
    path = "/api/datasources/{id}", tag = "datasources", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DatasourceView), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = authorized_ds(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(DatasourceView::from(&d)))
}

#[utoipa::path(put, operation_id = "updateDatasource", summary = "Replace a datasource",
    path = "/api/datasources/{id}", tag = "datasources", request_body = DatasourceInput, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = DatasourceView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<DatasourceInput>,
) -> Result<HttpResponse, ApiError> {
    let d = authorized_ds(&state, &auth, &path).await?;
    let f = body.take_valid(|b| b.validate(d.secret.clone()))?;
    let after = audited(&state, &req, &auth, async {
        let saved = state
            .store
            .update_datasource(d.id, &f)
            .await
            .map_err(|e| ApiError::from_store(e, "datasource"))?;
        let (before, after) = (DatasourceView::from(&d), DatasourceView::from(&saved));
        let summary = Summary::changes(&before, &after).secret("secret", d.secret != saved.secret);
        let did = Did::new("datasource.update", Some(d.project_id), d.id, summary);
        Ok((after, did))
    })
    .await?;
    Ok(HttpResponse::Ok().json(after))
}

#[utoipa::path(delete, operation_id = "deleteDatasource", summary = "Delete a datasource",
    path = "/api/datasources/{id}", tag = "datasources", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = authorized_ds(&state, &auth, &path).await?;
    audited(&state, &req, &auth, async {
        state
            .store
            .delete_datasource(d.id)
            .await
            .map_err(|e| ApiError::from_store(e, "datasource"))?;
        let summary = Summary::of(&serde_json::json!({ "name": d.name }));
        let did = Did::new("datasource.delete", Some(d.project_id), d.id, summary);
        Ok(((), did))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
