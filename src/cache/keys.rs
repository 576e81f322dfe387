//! Key names and value shapes of the edge contract (section 2), in one place.

use super::{Cache, ConnError};
use crate::domain::project::DEFAULT_TENANT;

/// `page:{slug}` for the default tenant, `page:{tenant}:{slug}` otherwise.
pub fn page_key(tenant: &str, slug: &str) -> String {
    if tenant == DEFAULT_TENANT {
        format!("page:{slug}")
    } else {
        format!("page:{tenant}:{slug}")
    }
}

pub fn homepage_key(tenant: &str) -> String {
    page_key(tenant, "__homepage__")
}

/// `seo:sitemap` and `seo:llms`, suffixed `:{tenant}` for a tenant.
pub fn seo_keys(tenant: &str) -> [String; 2] {
    if tenant == DEFAULT_TENANT {
        ["seo:sitemap".into(), "seo:llms".into()]
    } else {
        [
            format!("seo:sitemap:{tenant}"),
            format!("seo:llms:{tenant}"),
        ]
    }
}

/// Whether a key found by `page:*` belongs to `tenant`. Default-tenant keys have no further
/// `:` (slugs cannot contain one), so they are told apart from other tenants' keys.
pub fn is_tenant_page_key(tenant: &str, key: &str) -> bool {
    match key.strip_prefix("page:") {
        Some(rest) if tenant == DEFAULT_TENANT => !rest.contains(':'),
        Some(rest) => rest
            .strip_prefix(tenant)
            .is_some_and(|r| r.starts_with(':')),
        None => false,
    }
}

/// Deletes every page and SEO key of one tenant: SCAN + UNLINK in batches, touching nothing
/// else on a Redis shared with other projects. Returns how many keys were removed.
pub async fn flush_tenant(cache: &dyn Cache, tenant: &str) -> Result<i64, ConnError> {
    let pattern = if tenant == DEFAULT_TENANT {
        "page:*".to_string()
    } else {
        format!("page:{tenant}:*")
    };
    let mut keys: Vec<String> = cache
        .scan(&pattern)
        .await?
        .into_iter()
        .filter(|k| is_tenant_page_key(tenant, k))
        .collect();
    keys.extend(seo_keys(tenant));
    cache.unlink(&keys).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert_eq!(page_key("_default", "blog/a"), "page:blog/a");
        assert_eq!(page_key("acme", "blog/a"), "page:acme:blog/a");
        assert_eq!(homepage_key("_default"), "page:__homepage__");
        assert_eq!(seo_keys("acme")[1], "seo:llms:acme");
        assert!(is_tenant_page_key("_default", "page:blog/a"));
        assert!(!is_tenant_page_key("_default", "page:acme:blog/a"));
        assert!(is_tenant_page_key("acme", "page:acme:x"));
        assert!(!is_tenant_page_key("acme", "page:acme2:x"));
    }
}
