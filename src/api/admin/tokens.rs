//! `/api/tokens`: create, list and revoke API tokens (admin scope, not limited to a project).

use crate::api::admin::audit::{audited, Did};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::audit::Summary;
use crate::domain::token::{self, Scope, TokenInfo};
use crate::domain::Problems;
use crate::store::tokens::Revoked;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create]).add(resource![revoke]);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(pattern = "\\S", max_length = 100)]
    pub name: String,
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// Limit the token to one project (UUID or slug).
    #[serde(default)]
    pub project: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown only in this response.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

#[utoipa::path(get, operation_id = "listTokens", summary = "List API tokens (never their secrets)",
    path = "/api/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenInfo>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::Admin, None)?;
    Ok(HttpResponse::Ok().json(state.store.list_tokens().await?))
}

#[utoipa::path(post, operation_id = "createToken", summary = "Create an API token (its secret is shown once)",
    path = "/api/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, body = CreatedToken), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    body: JsonBody<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::Admin, None)?;
    let input = body.take()?;
    let mut problems = Problems::default();
    let name = problems.text("/name", &input.name, 100);
    if input.scopes.is_empty() {
        problems.push(
            "/scopes",
            "required",
            "give at least one of admin, publish, edge",
        );
    }
    problems.finish(()).map_err(ApiError::Validation)?;
    let project_id = match &input.project {
        Some(p) => Some(
            state
                .store
                .get_project(p)
                .await
                .map_err(|e| ApiError::from_store(e, "project"))?
                .id,
        ),
        None => None,
    };
    let secret = token::generate();
    let info = audited(&state, &req, &auth, async {
        let info = state
            .store
            .insert_token(&secret, &name, &input.scopes, project_id)
            .await?
            .ok_or_else(|| ApiError::internal("generated token collided"))?;
        let did = Did::new("token.create", info.project_id, info.id, Summary::of(&info));
        Ok((info, did))
    })
    .await?;
    Ok(HttpResponse::Created().json(CreatedToken {
        token: secret,
        info,
    }))
}

#[utoipa::path(delete, operation_id = "deleteToken", summary = "Revoke an API token",
    path = "/api/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "Token id, or a name only one token has")),
    responses((status = 200, body = TokenInfo, description = "Revoked"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Several tokens have that name (`details.ids`); nothing was revoked: revoke one by id")))]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::Admin, None)?;
    let info = audited(&state, &req, &auth, async {
        let info = match state
            .store
            .revoke_token(&path)
            .await
            .map_err(|e| ApiError::from_store(e, "token"))?
        {
            Revoked::One(info) => info,
            Revoked::Ambiguous(tokens) => {
                let ids: Vec<String> = tokens.iter().map(|t| t.id.to_string()).collect();
                return Err(ApiError::ConflictWith {
                    code: "ambiguous_name",
                    message: format!(
                        "{} tokens are named `{path}`; nothing was revoked: revoke one by id ({})",
                        ids.len(),
                        ids.join(", ")
                    ),
                    details: serde_json::json!({ "ids": ids }),
                });
            }
        };
        let summary = Summary::of(&serde_json::json!({ "name": info.name }));
        let did = Did::new("token.revoke", info.project_id, info.id, summary);
        Ok((info, did))
    })
    .await?;
    Ok(HttpResponse::Ok().json(info))
}
