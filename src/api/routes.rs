//! The route table, the one place a route is written. Each room's `routes` adds its resources
//! to a [`Routes`], which registers them with actix and records each path's methods and, for a
//! documented handler, the operation its `#[utoipa::path]` describes. The OpenAPI document's
//! paths are built from this table (`api::openapi`), and the `Allow` header of a 405 comes from
//! it too, so a route cannot be served without being documented, or the other way round.

use actix_web::{web, FromRequest, Handler, Responder};
use std::collections::HashMap;
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{schema::Schema, RefOr};

/// The schemas an operation's bodies name, as utoipa collects them for its `paths(...)`.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// One documented operation: its method and how to build its description.
#[derive(Clone)]
pub struct Documented {
    pub method: HttpMethod,
    /// The operation (tags included) and the schemas it refers to.
    pub describe: fn(&mut Schemas) -> Operation,
}

/// A resource of documented handlers: `resource![list, create]` takes each handler with the
/// description its `#[utoipa::path]` generated beside it (`__path_list`, …), so the path and
/// method are read from that description and written nowhere else.
macro_rules! resource {
    ($($handler:ident),+ $(,)?) => {
        pastey::paste! {
            $crate::api::routes::Resource::documented()
                $(.handler($handler, [<__path_ $handler>]))+
        }
    };
}
pub(crate) use resource;

/// One path and the handler of each method it takes.
pub struct Resource {
    /// Empty until the first documented handler names it.
    path: String,
    methods: Vec<&'static str>,
    documented: Vec<Documented>,
    routes: Vec<actix_web::Route>,
}

macro_rules! method {
    ($name:ident, $method:literal) => {
        pub fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.routes.push(web::$name().to(handler));
            self.methods.push($method);
            self
        }
    };
}

impl Resource {
    /// Served but not in the OpenAPI document (the console's files, the document itself, an
    /// alias kept for old clients); say why where it is used. A method a resource does not
    /// take is a 405 (with `Allow`), not an unknown route.
    pub fn undocumented(path: &'static str) -> Resource {
        Resource {
            path: path.to_string(),
            methods: Vec::new(),
            documented: Vec::new(),
            routes: Vec::new(),
        }
    }

    /// See [`resource!`].
    pub fn documented() -> Resource {
        Resource::undocumented("")
    }

    /// A handler and the description `#[utoipa::path]` generated for it. Its path must be the
    /// resource's (one resource, one path) and name one method; anything else is a mistake in
    /// the code that the first test building the table reports.
    pub fn handler<F, Args, D>(mut self, handler: F, _doc: D) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
        D: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
    {
        let path = D::path();
        assert!(
            self.path.is_empty() || self.path == path,
            "one resource, one path: {path} beside {}",
            self.path
        );
        self.path = path;
        let mut methods = D::methods();
        let (Some(method), None) = (methods.pop(), methods.pop()) else {
            panic!("{}: one method per handler", self.path);
        };
        let (name, actix) = actix_method(&method);
        self.routes.push(web::route().method(actix).to(handler));
        self.methods.push(name);
        self.documented.push(Documented {
            method,
            describe: describe::<D>,
        });
        self
    }

    method!(get, "GET");
    method!(post, "POST");
    method!(put, "PUT");
    method!(patch, "PATCH");
    method!(delete, "DELETE");
    method!(head, "HEAD");
}

fn describe<D>(schemas: &mut Schemas) -> Operation
where
    D: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
{
    D::schemas(schemas);
    let mut operation = D::operation();
    operation
        .tags
        .get_or_insert_with(Vec::new)
        .extend(D::tags().into_iter().map(str::to_string));
    operation
}

fn actix_method(method: &HttpMethod) -> (&'static str, actix_web::http::Method) {
    use actix_web::http::Method;
    match method {
        HttpMethod::Get => ("GET", Method::GET),
        HttpMethod::Post => ("POST", Method::POST),
        HttpMethod::Put => ("PUT", Method::PUT),
        HttpMethod::Patch => ("PATCH", Method::PATCH),
        HttpMethod::Delete => ("DELETE", Method::DELETE),
        HttpMethod::Head => ("HEAD", Method::HEAD),
        HttpMethod::Options => ("OPTIONS", Method::OPTIONS),
        HttpMethod::Trace => ("TRACE", Method::TRACE),
    }
}

/// A registered path: its full template (scope prefix included), methods and, for documented
/// handlers, their descriptions.
#[derive(Clone)]
pub struct Entry {
    pub path: String,
    pub methods: Vec<&'static str>,
    pub documented: Vec<Documented>,
}

/// Where a room adds its resources: actix's config when serving, nothing when only listing.
pub struct Routes<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    prefix: &'static str,
    table: &'a mut Vec<Entry>,
}

impl<'a> Routes<'a> {
    pub fn new(
        cfg: Option<&'a mut web::ServiceConfig>,
        prefix: &'static str,
        table: &'a mut Vec<Entry>,
    ) -> Routes<'a> {
        Routes { cfg, prefix, table }
    }

    /// Registers `r`. A documented path is written in full (`/api/...`, as the document shows
    /// it); an undocumented one relative to this scope.
    pub fn add(&mut self, r: Resource) -> &mut Self {
        let (full, local) = if r.documented.is_empty() {
            (format!("{}{}", self.prefix, r.path), r.path)
        } else {
            let local = r.path.strip_prefix(self.prefix).map(str::to_string);
            let Some(local) = local else {
                panic!("{} is registered under {}", r.path, self.prefix);
            };
            (r.path, local)
        };
        self.table.push(Entry {
            path: full,
            methods: r.methods,
            documented: r.documented,
        });
        if let Some(cfg) = self.cfg.as_deref_mut() {
            let resource = r
                .routes
                .into_iter()
                .fold(web::resource(local), |res, route| res.route(route));
            cfg.service(resource);
        }
        self
    }
}

/// Every path the server registers, as `api::configure` registers them.
pub fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::new();
        super::top_level_routes(&mut Routes::new(None, "", &mut table));
        super::api_routes(&mut Routes::new(None, "/api", &mut table));
        table
    })
}

/// The methods a route template answers (for `Allow` on a 405).
pub fn allowed_methods(pattern: &str) -> Option<String> {
    static ALLOW: OnceLock<HashMap<String, String>> = OnceLock::new();
    let map = ALLOW.get_or_init(|| {
        table()
            .iter()
            .map(|e| (e.path.clone(), e.methods.join(", ")))
            .collect()
    });
    map.get(pattern).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_registered_methods() {
        assert_eq!(
            allowed_methods("/api/projects/{project}").as_deref(),
            Some("GET, PUT, PATCH, DELETE")
        );
        assert_eq!(allowed_methods("/console/").as_deref(), Some("GET, HEAD"));
        assert_eq!(allowed_methods("/api/nothing"), None);
    }
}
