//! The routing table of a project: which page answers `(tenant, slug)`, and the homepage.
//!
//! Conflicts are refused rather than settled: a slug claimed by two pages routes to neither,
//! and two homepages leave the project without one, each with an error diagnostic. An
//! arbitrary winner would publish a site that depends on input order.

use std::collections::BTreeMap;

use serde::Serialize;

/// Routes of one tenant (a project compiles for exactly one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingTable {
    tenant_slug: String,
    /// slug → page id.
    routes: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    homepage: Option<String>,
}

impl RoutingTable {
    pub(crate) fn new(
        tenant_slug: &str,
        routes: BTreeMap<String, String>,
        homepage: Option<String>,
    ) -> Self {
        Self {
            tenant_slug: tenant_slug.to_owned(),
            routes,
            homepage,
        }
    }

    pub fn tenant_slug(&self) -> &str {
        &self.tenant_slug
    }

    /// The page id serving `slug` for `tenant`.
    pub fn resolve(&self, tenant: &str, slug: &str) -> Option<&str> {
        if tenant != self.tenant_slug {
            return None;
        }
        self.routes.get(slug).map(String::as_str)
    }

    /// The homepage's page id for `tenant`.
    pub fn homepage(&self, tenant: &str) -> Option<&str> {
        if tenant != self.tenant_slug {
            return None;
        }
        self.homepage.as_deref()
    }

    /// `(slug, page id)` pairs in slug order.
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.routes.iter().map(|(s, id)| (s.as_str(), id.as_str()))
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}
