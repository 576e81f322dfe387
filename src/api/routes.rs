//! The route table. Each room's `routes` adds its resources to a [`Routes`], which registers
//! them with actix and records each path's methods, so the `Allow` header of a 405 comes from
//! what is registered, not from the OpenAPI document (`api::openapi::routes_match` checks that
//! the two list the same paths and methods).

use actix_web::{web, FromRequest, Handler, Responder};
use std::collections::HashMap;
use std::sync::OnceLock;

/// One path and the handler of each method it takes.
pub struct Resource {
    path: &'static str,
    methods: Vec<&'static str>,
    documented: bool,
    inner: actix_web::Resource,
}

macro_rules! method {
    ($name:ident, $method:literal) => {
        pub fn $name<F, Args>(mut self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.inner = self.inner.$name(handler);
            self.methods.push($method);
            self
        }
    };
}

impl Resource {
    /// A resource, so a method it does not take is a 405 (with `Allow`), not an unknown route.
    pub fn new(path: &'static str) -> Resource {
        Resource {
            path,
            methods: Vec::new(),
            documented: true,
            inner: web::resource(path),
        }
    }

    /// Served but not in the OpenAPI document (the console's files, the document itself, an
    /// alias kept for old clients); say why where it is used.
    pub fn undocumented(mut self) -> Resource {
        self.documented = false;
        self
    }

    method!(get, "GET");
    method!(post, "POST");
    method!(put, "PUT");
    method!(patch, "PATCH");
    method!(delete, "DELETE");
    method!(head, "HEAD");
}

/// A registered path: its full template (scope prefix included) and methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub methods: Vec<&'static str>,
    pub documented: bool,
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

    pub fn add(&mut self, r: Resource) -> &mut Self {
        self.table.push(Entry {
            path: format!("{}{}", self.prefix, r.path),
            methods: r.methods,
            documented: r.documented,
        });
        if let Some(cfg) = self.cfg.as_deref_mut() {
            cfg.service(r.inner);
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
