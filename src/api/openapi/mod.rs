//! The OpenAPI 3.1 document, generated from the route table and the handlers' descriptions, and the Swagger UI at `/docs`
//! (assets vendored into the binary: no CDN).

use crate::api::limits::RateLimitDocs;
pub mod bodies;
pub mod links;
#[cfg(test)]
mod pattern_props;
pub mod responses;
#[cfg(test)]
mod routes_match;
pub mod rules;

use crate::api::error;
use crate::api::routes::table;
use links::Links;
use responses::ResponseShapes;
use rules::RequestRules;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "edgepub", description = "Control plane of a no-code site builder: projects, page drafts, publishing."),
    components(schemas(error::ErrorBody, error::ErrorDetail, crate::domain::FieldError)),
    modifiers(&FromRoutes, &BearerAuth, &CommonErrors, &RateLimitDocs, &Links, &RequestRules, &ResponseShapes),
    security(("bearer" = [])),
    tags(
        (name = "projects", description = "Sites and the settings an edge renders them with"),
        (name = "pages", description = "Page drafts, autosave with If-Match, history"),
        (name = "tokens", description = "API tokens (admin scope)"),
        (name = "settings", description = "Cache settings, test connection, flush; the verification schedule"),
        (name = "targets", description = "Publish targets and their test connection"),
        (name = "edge", description = "What edges fetch (edge scope, one project)"),
        (name = "datasources", description = "Datasources bindings read from (public values are compiled into pages)"),
        (name = "publish", description = "Compile, publish jobs, releases and rollback"),
        (name = "webhooks", description = "The signed publish webhook in, signed publish events out (Standard Webhooks): secrets, subscriber endpoints, delivery log"),
        (name = "previews", description = "Preview links: a compiled draft behind an unguessable token, with a TTL"),
        (name = "schedules", description = "Publishes and unpublishes scheduled for a time"),
        (name = "audit", description = "Who changed what, when (admin scope)"),
        (name = "ops", description = "Health, readiness and metrics (no auth)"),
    )
)]
pub struct ApiDoc;

/// The paths, read from the route table: each documented handler's operation under the path
/// it is registered at, and the schemas its bodies name.
struct FromRoutes;

impl Modify for FromRoutes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut schemas = Vec::new();
        for entry in table() {
            for doc in &entry.documented {
                let operation = (doc.describe)(&mut schemas);
                openapi
                    .paths
                    .add_path_operation(&entry.path, vec![doc.method.clone()], operation);
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.extend(schemas);
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The errors any `/api` operation can answer, documented once instead of on each handler:
/// 400 (malformed JSON or query), 401 (no or bad token), 403 (scope or project), 404 (unknown
/// resource or route), 413 and 422 where a body is read, 503 (the database is unavailable, or
/// a stored secret this process cannot open).
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder};
        let error = || -> RefOr<utoipa::openapi::Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description("An error: `{\"error\": {\"code\", \"message\", \"details\"}}`")
                    .content(
                        "application/json",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let mut codes = vec!["400", "401", "403", "404", "503"];
                if op.request_body.is_some() {
                    codes.extend(["413", "422"]);
                }
                if op.parameters.as_ref().is_some_and(|p| {
                    p.iter().any(|p| {
                        matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query)
                    })
                }) {
                    codes.push("422");
                }
                for code in codes {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(error);
                }
            }
        }
    }
}

/// Names and pointers a rule looked for and did not find. After a rename, a rule would apply
/// to nothing and the committed snapshot would invite committing the weaker document; the
/// test below turns that into a failure naming the rule's target.
#[derive(Default)]
pub struct Missed(pub Vec<String>);

impl Missed {
    /// `found`, noting `what` when it is absent.
    pub fn note<T>(&mut self, what: &str, found: Option<T>) -> Option<T> {
        if found.is_none() {
            self.0.push(what.to_string());
        }
        found
    }
}

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn document() -> String {
    let doc = ApiDoc::openapi();
    let mut text = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    // utoipa 5 writes a link's `operationRef` in snake case; the key occurs nowhere else.
    text = text.replace("\"operation_ref\":", "\"operationRef\":");
    text.push('\n');
    text
}

/// The UI, reading the document at `/openapi.json`.
pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json"))
}

/// `GET /openapi.json`: [`document`], built once per process and shared by every worker
/// (each worker holding its own parsed copy cost ~5 MB of idle RSS per worker, measured).
pub async fn served_document() -> actix_web::HttpResponse {
    static DOC: std::sync::OnceLock<actix_web::web::Bytes> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| actix_web::web::Bytes::from(document().into_bytes()));
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema name and pointer the rules and response shapes name is in the document:
    /// they run again over the finished document (each is idempotent) and miss nothing.
    #[test]
    fn every_rule_finds_what_it_rewrites() {
        let doc = ApiDoc::openapi();
        let Ok(mut doc) = serde_json::to_value(&doc) else {
            panic!("the document serialises");
        };
        assert_eq!(rules::apply(&mut doc), Vec::<String>::new());
        assert_eq!(responses::apply(&mut doc), Vec::<String>::new());
        let mut missed = Missed::default();
        assert!(missed.note("x", None::<()>).is_none());
        assert_eq!(missed.0, ["x"]);
    }
}
