//! Key names and value shapes of the edge contract (section 2), in one place.

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

/// Every key a project's published pages occupy: one per page of its current release, the
/// homepage's and the tenant's SEO keys. Flushing deletes exactly these, never a pattern: two
/// projects on one Redis (other tenants, or other key owners) keep theirs.
pub fn project_keys<'a>(tenant: &str, slugs: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut keys: Vec<String> = slugs.into_iter().map(|s| page_key(tenant, s)).collect();
    keys.push(homepage_key(tenant));
    keys.extend(seo_keys(tenant));
    keys
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
        assert_eq!(
            project_keys("acme", ["a", "b/c"]),
            [
                "page:acme:a",
                "page:acme:b/c",
                "page:acme:__homepage__",
                "seo:sitemap:acme",
                "seo:llms:acme"
            ]
        );
    }
}
