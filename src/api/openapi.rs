//! The OpenAPI 3.1 document, generated from the handlers, and the Swagger UI at `/docs`
//! (assets vendored into the binary: no CDN).

use super::{
    datasources, drift, error, events, health, pages, projects, publish, releases, retry, settings,
    sync, targets, tokens, versions,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "edgepub", description = "Control plane of a no-code site builder: projects, page drafts, publishing."),
    paths(
        health::healthz, health::readyz, health::metrics,
        projects::list, projects::create, projects::get, projects::replace, projects::patch, projects::delete,
        pages::list, pages::create, pages::get, pages::replace, pages::patch, pages::delete, pages::restore,
        versions::list, versions::get, versions::restore,
        tokens::list, tokens::create, tokens::revoke,
        settings::get, settings::put, settings::test, settings::flush,
        targets::list, targets::create, targets::get, targets::replace, targets::patch, targets::delete,
        targets::test_unsaved, targets::test_saved,
        sync::redis_settings,
        datasources::list, datasources::create, datasources::get, datasources::replace, datasources::delete,
        publish::publish_project, publish::publish_page, publish::unpublish_page, publish::get_job, publish::list_jobs,
        events::job_events, publish::compile,
        releases::list, releases::get, releases::rollback, retry::retry_job, drift::drift, drift::repair,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, crate::domain::FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "projects", description = "Sites and the settings an edge renders them with"),
        (name = "pages", description = "Page drafts, autosave with If-Match, history"),
        (name = "tokens", description = "API tokens (admin scope)"),
        (name = "settings", description = "Cache settings, test connection, flush"),
        (name = "targets", description = "Publish targets and their test connection"),
        (name = "edge", description = "What edges fetch (edge scope, one project)"),
        (name = "datasources", description = "Datasources bindings read from (public values are compiled into pages)"),
        (name = "publish", description = "Compile, publish jobs, releases and rollback"),
        (name = "ops", description = "Health, readiness and metrics (no auth)"),
    )
)]
pub struct ApiDoc;

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

/// The document as committed in `openapi/openapi.json` (pretty, trailing newline).
pub fn document() -> String {
    let doc = ApiDoc::openapi();
    let mut text = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

pub fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi())
}
