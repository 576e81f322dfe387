//! Links between operations (OpenAPI `links`): the id a create answers with is what the
//! operations on that resource take. Each link is named by the operationId it leads to. Clients can follow them, and the fuzzer's stateful phase
//! (scripts/fuzz.sh) chains requests along them instead of guessing.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, PathItem};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Modify;

/// (from method, from path, status, link name, to method, to path, to parameter, from field)
type Edge = (
    HttpMethod,
    &'static str,
    &'static str,
    &'static str,
    HttpMethod,
    &'static str,
    &'static str,
    &'static str,
);

const EDGES: &[Edge] = {
    use HttpMethod::{Delete, Get, Patch, Post, Put};
    let p = "/api/projects";
    let pid = "/api/projects/{project}";
    let page = "/api/pages/{id}";
    let target = "/api/targets/{id}";
    let secret = "/api/webhook-secrets/{id}";
    &[
        (Post, p, "201", "getProject", Get, pid, "project", "id"),
        (Post, p, "201", "updateProject", Put, pid, "project", "id"),
        (Post, p, "201", "patchProject", Patch, pid, "project", "id"),
        (
            Post,
            p,
            "201",
            "deleteProject",
            Delete,
            pid,
            "project",
            "id",
        ),
        (
            Post,
            p,
            "201",
            "createPage",
            Post,
            "/api/projects/{project}/pages",
            "project",
            "id",
        ),
        (
            Post,
            p,
            "201",
            "createTarget",
            Post,
            "/api/projects/{project}/targets",
            "project",
            "id",
        ),
        (
            Post,
            p,
            "201",
            "createWebhookSecret",
            Post,
            "/api/projects/{project}/webhook-secrets",
            "project",
            "id",
        ),
        (
            Post,
            p,
            "201",
            "publishProject",
            Post,
            "/api/projects/{project}/publish",
            "project",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/pages",
            "201",
            "getPage",
            Get,
            page,
            "id",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/pages",
            "201",
            "updatePage",
            Put,
            page,
            "id",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/pages",
            "201",
            "patchPage",
            Patch,
            page,
            "id",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/targets",
            "201",
            "getTarget",
            Get,
            target,
            "id",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/webhook-secrets",
            "201",
            "rotateWebhookSecret",
            Post,
            "/api/webhook-secrets/{id}/rotate",
            "id",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/webhook-secrets",
            "201",
            "deleteWebhookSecret",
            Delete,
            secret,
            "id",
            "id",
        ),
        (
            Post,
            "/api/projects/{project}/publish",
            "202",
            "getPublishJob",
            Get,
            "/api/publish-jobs/{id}",
            "id",
            "job_id",
        ),
    ]
};

fn operation<'a>(
    item: &'a mut PathItem,
    method: &HttpMethod,
) -> Option<&'a mut utoipa::openapi::path::Operation> {
    match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        _ => None,
    }
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "get",
        HttpMethod::Put => "put",
        HttpMethod::Post => "post",
        HttpMethod::Delete => "delete",
        HttpMethod::Patch => "patch",
        _ => "",
    }
}

pub struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut OpenApi) {
        for (from_method, from, status, name, to_method, to, param, field) in EDGES {
            let target = format!(
                "#/paths/{}/{}",
                to.replace('~', "~0").replace('/', "~1"),
                method_name(to_method)
            );
            let link = LinkBuilder::new()
                .operation_ref(target)
                .parameter(*param, format!("$response.body#/{field}"))
                .build();
            let response = openapi
                .paths
                .paths
                .get_mut(*from)
                .and_then(|item| operation(item, from_method))
                .and_then(|op| op.responses.responses.get_mut(*status));
            if let Some(RefOr::T(response)) = response {
                response.links.insert((*name).to_string(), RefOr::T(link));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi as _;

    #[test]
    fn every_link_joins_two_documented_operations() {
        let doc = crate::api::openapi::ApiDoc::openapi();
        for (from_method, from, status, name, to_method, to, _, _) in EDGES {
            let mut paths = doc.paths.paths.clone();
            let has_target = paths
                .get_mut(*to)
                .and_then(|item| operation(item, to_method))
                .is_some();
            assert!(has_target, "{name}: no {to}");
            let linked = paths
                .get_mut(*from)
                .and_then(|item| operation(item, from_method))
                .and_then(|op| op.responses.responses.get(*status).cloned());
            match linked {
                Some(RefOr::T(r)) => assert!(r.links.contains_key(*name), "{name} missing"),
                _ => panic!("{name}: no {status} response on {from}"),
            }
        }
    }
}
