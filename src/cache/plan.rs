//! What a release changes in the page cache (contract section 2), worked out once from the
//! previous and the new release: pure, so every mode and edge case is unit-tested.

use super::keys::{homepage_key, page_key, seo_keys};
use crate::domain::publish::ReleasePage;
use crate::domain::settings::CacheMode;
use std::collections::{BTreeMap, HashMap};

/// One cache operation of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOp {
    /// Delete the key.
    Del(String),
    /// Write the page's value (the page shape).
    Page(String, ReleasePage),
    /// Write the homepage key (the whole compiled page).
    Homepage(String, ReleasePage),
}

impl CacheOp {
    pub fn key(&self) -> &str {
        match self {
            CacheOp::Del(k) | CacheOp::Page(k, _) | CacheOp::Homepage(k, _) => k,
        }
    }
}

fn same(a: &ReleasePage, b: &ReleasePage) -> bool {
    a.version == b.version && a.content_hash == b.content_hash && a.slug == b.slug
}

/// The operations that bring the cache from `prev` to `next`. `is_home` tells whether a
/// compiled page (by content hash) is the homepage. Deletes come first, then writes, and a
/// key is touched once (a write wins over a delete of the same key).
pub fn cache_ops(
    mode: CacheMode,
    tenant: &str,
    prev: &[ReleasePage],
    next: &[ReleasePage],
    is_home: &dyn Fn(&str) -> bool,
) -> Vec<CacheOp> {
    let before: HashMap<&str, &ReleasePage> =
        prev.iter().map(|p| (p.page_id.as_str(), p)).collect();
    let after: HashMap<&str, &ReleasePage> = next.iter().map(|p| (p.page_id.as_str(), p)).collect();
    let mut dels: Vec<String> = Vec::new();
    let mut sets: BTreeMap<String, CacheOp> = BTreeMap::new();
    for p in next {
        match before.get(p.page_id.as_str()) {
            Some(old) if same(old, p) => continue,
            Some(old) if old.slug != p.slug => dels.push(page_key(tenant, &old.slug)),
            _ => {}
        }
        let key = page_key(tenant, &p.slug);
        match mode {
            CacheMode::Invalidate => dels.push(key),
            CacheMode::Prime => {
                sets.insert(key.clone(), CacheOp::Page(key, p.clone()));
            }
        }
    }
    for p in prev
        .iter()
        .filter(|p| !after.contains_key(p.page_id.as_str()))
    {
        dels.push(page_key(tenant, &p.slug));
    }
    let home_before = prev.iter().find(|p| is_home(&p.content_hash));
    let home_after = next.iter().find(|p| is_home(&p.content_hash));
    let home_changed = match (home_before, home_after) {
        (Some(a), Some(b)) => a.page_id != b.page_id || !same(a, b),
        (None, None) => false,
        _ => true,
    };
    if home_changed {
        let key = homepage_key(tenant);
        match (mode, home_after) {
            (CacheMode::Prime, Some(h)) => {
                sets.insert(key.clone(), CacheOp::Homepage(key, h.clone()));
            }
            _ => dels.push(key),
        }
    }
    if dels.is_empty() && sets.is_empty() {
        return Vec::new();
    }
    dels.extend(seo_keys(tenant));
    dels.sort();
    dels.dedup();
    dels.retain(|k| !sets.contains_key(k));
    dels.into_iter()
        .map(CacheOp::Del)
        .chain(sets.into_values())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(id: &str, slug: &str, v: i64, hash: &str) -> ReleasePage {
        ReleasePage {
            page_id: id.into(),
            slug: slug.into(),
            version: v,
            content_hash: hash.into(),
            published_at: "t".into(),
        }
    }

    fn keys(ops: &[CacheOp]) -> Vec<String> {
        ops.iter()
            .map(|o| match o {
                CacheOp::Del(k) => format!("del {k}"),
                CacheOp::Page(k, _) => format!("page {k}"),
                CacheOp::Homepage(k, _) => format!("home {k}"),
            })
            .collect()
    }

    #[test]
    fn invalidate_deletes_changed_removed_moved_and_seo() {
        let prev = [
            page("h", "home", 1, "H"),
            page("a", "a", 1, "A"),
            page("b", "b", 1, "B"),
        ];
        let next = [
            page("h", "home", 1, "H"),
            page("a", "a2", 2, "A2"),
            page("c", "c", 1, "C"),
        ];
        let ops = cache_ops(CacheMode::Invalidate, "_default", &prev, &next, &|h| {
            h == "H"
        });
        assert_eq!(
            keys(&ops),
            [
                "del page:a",
                "del page:a2",
                "del page:b",
                "del page:c",
                "del seo:llms",
                "del seo:sitemap"
            ]
        );
    }

    #[test]
    fn prime_writes_changed_pages_and_the_homepage_for_a_tenant() {
        let prev = [page("h", "home", 1, "H"), page("a", "a", 1, "A")];
        let next = [page("h", "home", 2, "H2"), page("a", "a", 1, "A")];
        let ops = cache_ops(CacheMode::Prime, "acme", &prev, &next, &|h| {
            h.starts_with('H')
        });
        assert_eq!(
            keys(&ops),
            [
                "del seo:llms:acme",
                "del seo:sitemap:acme",
                "home page:acme:__homepage__",
                "page page:acme:home"
            ]
        );
    }

    #[test]
    fn nothing_changed_touches_nothing_and_a_swap_keeps_the_written_key() {
        let same = [page("a", "a", 1, "A")];
        assert!(cache_ops(CacheMode::Prime, "_default", &same, &same, &|_| false).is_empty());
        let prev = [page("a", "x", 1, "A"), page("b", "y", 1, "B")];
        let next = [page("a", "y", 2, "A"), page("b", "x", 2, "B")];
        let ops = cache_ops(CacheMode::Prime, "_default", &prev, &next, &|_| false);
        assert_eq!(
            keys(&ops),
            [
                "del seo:llms",
                "del seo:sitemap",
                "page page:x",
                "page page:y"
            ]
        );
    }
}
