//! The operator console: a few static files, compiled into the binary, served at `/console/`.
//!
//! The console is plain ES modules that call the public `/api` with a token the operator pastes;
//! nothing here authenticates, because nothing here is secret. It is not in the OpenAPI document:
//! it serves HTML, not the API.

use crate::api::routes::{Resource, Routes};
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Every file of the console, by the name it is served under.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../console/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../console/style.css"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/ui.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "project.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/project.js"),
    ),
    (
        "operate.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/operate.js"),
    ),
    (
        "settings.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/settings.js"),
    ),
];

/// Only this origin's files and API: no inline script or style, no framing, no other host, so an
/// injected string can neither run nor send the token anywhere.
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

pub fn routes(r: &mut Routes) {
    let redirect = || async {
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/console/"))
            .finish()
    };
    let index = || async { asset("index.html") };
    let file = |file: web::Path<String>| async move { asset(&file) };
    // HTML for people, not the API: not in the OpenAPI document. HEAD too, for monitors and
    // link checkers (actix answers it without the body).
    r.add(
        Resource::undocumented("/console")
            .get(redirect)
            .head(redirect),
    )
    .add(Resource::undocumented("/console/").get(index).head(index))
    .add(
        Resource::undocumented("/console/{file}")
            .get(file)
            .head(file),
    );
}

fn asset(name: &str) -> HttpResponse {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return HttpResponse::NotFound()
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .content_type("text/plain; charset=utf-8")
            .body("no such console file");
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        // A new binary may ship new files under the same names: revalidate every time.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type(*content_type)
        .body(*body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, App};

    fn mount(cfg: &mut web::ServiceConfig) {
        routes(&mut Routes::new(Some(cfg), "", &mut Vec::new()));
    }

    #[actix_web::test]
    async fn serves_every_file_with_a_strict_policy() {
        let app = test::init_service(App::new().configure(mount)).await;
        for (name, content_type, body) in ASSETS {
            let res = test::call_service(
                &app,
                test::TestRequest::get()
                    .uri(&format!("/console/{name}"))
                    .to_request(),
            )
            .await;
            assert_eq!(res.status(), 200, "{name}");
            let h = res.headers();
            assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), content_type);
            assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
            let csp = h
                .get(header::CONTENT_SECURITY_POLICY)
                .unwrap()
                .to_str()
                .unwrap();
            assert!(csp.starts_with("default-src 'self'"), "{csp}");
            assert_eq!(test::read_body(res).await, body.as_bytes());
        }
    }

    #[actix_web::test]
    async fn index_redirect_and_unknown_files() {
        let app = test::init_service(App::new().configure(mount)).await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/console").to_request()).await;
        assert_eq!(res.status(), 308);
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/console/");
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/console/").to_request()).await;
        assert_eq!(res.status(), 200);
        let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(html.contains(r#"<script type="module" src="app.js">"#));
        // No inline script or style: the policy would block it.
        assert!(!html.contains("<script>") && !html.contains("style="));
        let head = test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri("/console/app.js")
            .to_request();
        let res = test::call_service(&app, head).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            "text/javascript; charset=utf-8"
        );
        for bad in ["/console/nope.js", "/console/..%2FCargo.toml"] {
            let res =
                test::call_service(&app, test::TestRequest::get().uri(bad).to_request()).await;
            assert_eq!(res.status(), 404, "{bad}");
        }
    }
}
