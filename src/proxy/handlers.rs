//! HTTP handlers: `POST /`, `POST /pipeline`, `POST /multi-exec`, the path form and health.
//!
//! Every handler checks the token before reading the body, so an unauthenticated client
//! cannot make the proxy buffer a megabyte or touch Redis.

use actix_web::http::header::HeaderName;
use actix_web::{web, HttpRequest, HttpResponse};
use redis::Value;
use serde_json::{json, Value as Json};

use super::body::read_limited;
use super::command::{self, Command};
use super::encode::{to_json, Encoding};
use super::error::ProxyError;
use super::scope::Access;
use super::ProxyState;

/// The header with which the SDK asks for base64 strings.
const ENCODING_HEADER: HeaderName = HeaderName::from_static("upstash-encoding");

type Reply = Result<HttpResponse, ProxyError>;

/// `POST /` with `["SET", "k", "v"]`.
pub(crate) async fn single(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ProxyState>,
) -> Reply {
    let access = state.authorize(&req)?;
    let body = read_limited(&req, payload, state.max_body_bytes).await?;
    let cmd = command::parse_single(&body)?;
    run_single(&req, &state, &access, cmd).await
}

/// `GET|POST /get/key` and friends; a POST body is the last argument.
pub(crate) async fn path_form(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ProxyState>,
) -> Reply {
    let access = state.authorize(&req)?;
    let body = read_limited(&req, payload, state.max_body_bytes).await?;
    // The matched tail still has `%2F`, `%25` and `%2B` escaped (actix keeps those so that
    // segment boundaries survive), so splitting on `/` then decoding gives exact bytes.
    let path = req.match_info().get("path").unwrap_or_default();
    let cmd = command::from_path(path, &body)?;
    run_single(&req, &state, &access, cmd).await
}

/// `POST /pipeline` with `[["SET","a","1"],["INCR","a"]]`: one answer per command.
pub(crate) async fn pipeline(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ProxyState>,
) -> Reply {
    let access = state.authorize(&req)?;
    let body = read_limited(&req, payload, state.max_body_bytes).await?;
    let cmds = command::parse_many(&body, state.max_pipeline_commands)?;
    let enc = encoding(&req);

    // Refused commands answer in their own slot, like any other per-command error, so the
    // rest of the pipeline still runs.
    let refusals: Vec<Option<String>> = cmds.iter().map(|c| state.refusal(&access, c)).collect();
    let runnable: Vec<&Command> = cmds
        .iter()
        .zip(&refusals)
        .filter(|(_, refused)| refused.is_none())
        .map(|(cmd, _)| cmd)
        .collect();
    tracing::debug!(commands = cmds.len(), "pipeline");
    let mut values = if runnable.is_empty() {
        Vec::new().into_iter()
    } else {
        state.backend.pipeline(&runnable).await?.into_iter()
    };

    let answers: Vec<Json> = refusals
        .into_iter()
        .map(|refused| match refused {
            Some(message) => json!({ "error": message }),
            None => entry(values.next(), enc),
        })
        .collect();
    Ok(HttpResponse::Ok().json(answers))
}

/// `POST /multi-exec`: the same body as `/pipeline`, run as one MULTI/EXEC transaction.
pub(crate) async fn multi_exec(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ProxyState>,
) -> Reply {
    let access = state.authorize(&req)?;
    let body = read_limited(&req, payload, state.max_body_bytes).await?;
    let cmds = command::parse_many(&body, state.max_pipeline_commands)?;
    // A transaction cannot run with a hole in it, so one refused command refuses them all.
    for (i, cmd) in cmds.iter().enumerate() {
        if let Some(message) = state.refusal(&access, cmd) {
            return Err(ProxyError::BadRequest(format!(
                "command {}: {message}",
                i + 1
            )));
        }
    }
    tracing::debug!(commands = cmds.len(), "multi-exec");
    let enc = encoding(&req);
    let answers: Vec<Json> = state
        .backend
        .transaction(&cmds)
        .await?
        .into_iter()
        .map(|v| entry(Some(v), enc))
        .collect();
    Ok(HttpResponse::Ok().json(answers))
}

/// `GET /` and `GET /health`: whether Redis answers. No token needed, and nothing secret told.
pub(crate) async fn health(state: web::Data<ProxyState>) -> Reply {
    match state.backend.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({ "status": "ok", "redis": "up" }))),
        Err(e) => Ok(HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "error": e.to_string() }))),
    }
}

/// Known path, wrong method.
pub(crate) async fn method_not_allowed() -> Reply {
    Err(ProxyError::MethodNotAllowed)
}

async fn run_single(req: &HttpRequest, state: &ProxyState, access: &Access, cmd: Command) -> Reply {
    if let Some(message) = state.refusal(access, &cmd) {
        return Err(ProxyError::BadRequest(message));
    }
    tracing::debug!(command = %cmd.name(), "command");
    let value = state.backend.single(&cmd).await?;
    let result = to_json(value, encoding(req)).map_err(ProxyError::Command)?;
    Ok(HttpResponse::Ok().json(json!({ "result": result })))
}

/// One slot of a pipeline or transaction answer.
fn entry(value: Option<Value>, enc: Encoding) -> Json {
    match value.map(|v| to_json(v, enc)) {
        Some(Ok(result)) => json!({ "result": result }),
        Some(Err(error)) => json!({ "error": error }),
        // Cannot happen with a well-behaved server: the backend checks the reply count.
        None => json!({ "error": "ERR no reply for this command" }),
    }
}

fn encoding(req: &HttpRequest) -> Encoding {
    let base64 = req
        .headers()
        .get(ENCODING_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"));
    if base64 {
        Encoding::Base64
    } else {
        Encoding::Text
    }
}
