//! Project-wide checks: slugs, page ids, the tenant, the homepage, and the routing table they
//! produce. Per-component checks happen during normalisation ([`super::normalise`]).
//!
//! Slug rules: lowercase segments of `[a-z0-9-_]` joined by `/`, no empty segment, no leading
//! or trailing slash, no `..`, and a first segment that is not one of [`RESERVED_SEGMENTS`]
//! (routes the edge serves itself). A homepage obeys the same rules.

use std::collections::{BTreeMap, HashMap};

use super::diagnostics::{Code, Diagnostic};
use super::model::{DraftPage, ProjectContext};
use super::routes::RoutingTable;

/// First path segments the edge keeps for itself.
pub const RESERVED_SEGMENTS: [&str; 5] = ["api", "_next", "__homepage__", "static", "assets"];

fn segment_ok(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Checks one slug; the error carries its code and a message.
pub fn check_slug(slug: &str) -> Result<(), (Code, String)> {
    if slug.is_empty() {
        return Err((Code::InvalidSlug, "slug is empty".to_owned()));
    }
    if slug.starts_with('/') || slug.ends_with('/') {
        return Err((
            Code::InvalidSlug,
            format!("slug {slug:?} must not start or end with '/'"),
        ));
    }
    if slug.contains("..") {
        return Err((Code::InvalidSlug, format!("slug {slug:?} contains '..'")));
    }
    if let Some(bad) = slug.split('/').find(|s| !segment_ok(s)) {
        let why = if bad.is_empty() {
            "has an empty segment".to_owned()
        } else {
            format!("has segment {bad:?}; only a-z, 0-9, '-' and '_' are allowed")
        };
        return Err((Code::InvalidSlug, format!("slug {slug:?} {why}")));
    }
    let first = slug.split('/').next().unwrap_or_default();
    if RESERVED_SEGMENTS.contains(&first) {
        return Err((
            Code::ReservedSlug,
            format!("slug {slug:?} starts with {first:?}, which the edge reserves"),
        ));
    }
    if slug.contains('/') {
        return Err((
            Code::InvalidSlug,
            format!(
                "slug {slug:?} has several path segments: the edge serves pages at /{{slug}}, one \
                 segment, so this page would be listed in its sitemap but answer 404"
            ),
        ));
    }
    Ok(())
}

/// Checks the pages of a project together and builds the routing table from the pages that
/// passed.
pub fn check_project(
    pages: &[DraftPage],
    context: &ProjectContext,
) -> (RoutingTable, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let tenant = context.tenant_slug.as_str();
    if !segment_ok(tenant) {
        diags.push(Diagnostic::new(
            None,
            "/context/tenant_slug",
            Code::InvalidTenantSlug,
            format!("tenant slug {tenant:?} must be non-empty a-z, 0-9, '-' and '_'"),
        ));
    }

    let mut ids: HashMap<&str, usize> = HashMap::new();
    for page in pages {
        *ids.entry(page.id.as_str()).or_default() += 1;
    }
    let mut by_slug: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for page in pages {
        let id = Some(page.id.as_str());
        if ids.get(page.id.as_str()).copied().unwrap_or_default() > 1 {
            let message = format!("page id {:?} is used by more than one draft", page.id);
            diags.push(Diagnostic::new(id, "/id", Code::DuplicatePageId, message));
        }
        match check_slug(&page.slug) {
            Ok(()) => by_slug
                .entry(page.slug.as_str())
                .or_default()
                .push(&page.id),
            Err((code, message)) => diags.push(Diagnostic::new(id, "/slug", code, message)),
        }
    }

    let mut routes = BTreeMap::new();
    for (slug, owners) in &by_slug {
        if let [only] = owners.as_slice() {
            routes.insert((*slug).to_owned(), (*only).to_owned());
            continue;
        }
        for owner in owners {
            let others: Vec<&str> = owners.iter().copied().filter(|o| o != owner).collect();
            let message =
                format!("slug {slug:?} is also used by page(s) {others:?} in tenant {tenant:?}");
            diags.push(Diagnostic::new(
                Some(owner),
                "/slug",
                Code::DuplicateSlug,
                message,
            ));
        }
    }

    let homepages: Vec<&DraftPage> = pages.iter().filter(|p| p.is_homepage).collect();
    let homepage = match homepages.as_slice() {
        [one] => Some(one.id.clone()),
        [] => None,
        many => {
            for page in many {
                let message = format!(
                    "{} pages are marked as homepage; a tenant has exactly one",
                    many.len()
                );
                diags.push(Diagnostic::new(
                    Some(&page.id),
                    "/is_homepage",
                    Code::MultipleHomepages,
                    message,
                ));
            }
            None
        }
    };
    let public_homepage = homepages.iter().any(|p| p.is_public);
    if !pages.is_empty() && !public_homepage {
        diags.push(Diagnostic::new(
            None,
            "/pages",
            Code::NoHomepage,
            "no public page is marked as homepage; the site root will not resolve".to_owned(),
        ));
    }
    (RoutingTable::new(tenant, routes, homepage), diags)
}
