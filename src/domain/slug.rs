//! Slugs: project slugs (one URL-safe word) and page slugs (a path the edge routes on).

/// First path segments an edge serves itself, so a page there would never be reached.
const RESERVED_FIRST_SEGMENTS: &[&str] = &[
    "api",
    "_next",
    "__homepage__",
    "static",
    "assets",
    "favicon.ico",
    "robots.txt",
    "sitemap.xml",
    "llms.txt",
];

pub const MAX_PAGE_SLUG: usize = 255;

/// Validates a page slug: one lowercase URL segment of `[a-z0-9._-]` (the edge routes
/// `/:slug` only).
pub fn check_page_slug(slug: &str) -> Result<(), String> {
    if slug.is_empty() {
        return Err("must not be empty".into());
    }
    if slug.len() > MAX_PAGE_SLUG {
        return Err(format!("must be at most {MAX_PAGE_SLUG} characters"));
    }
    if slug.contains('/') {
        return Err(
            "must be one path segment, without `/`: the edge serves pages at /{slug} only, so a \
             page with `/` in its slug would be listed in its sitemap but answer 404"
                .into(),
        );
    }
    for segment in slug.split('/') {
        if segment.is_empty() {
            return Err("must not contain empty segments (`//`)".into());
        }
        if segment == "." || segment == ".." {
            return Err("must not contain `.` or `..` segments".into());
        }
        if segment == "__homepage__" {
            return Err("`__homepage__` is reserved".into());
        }
        if let Some(c) = segment.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        }) {
            let lower = slug.to_ascii_lowercase();
            let hint = if c.is_ascii_uppercase() && check_page_slug(&lower).is_ok() {
                format!(" (`{lower}` would do)")
            } else {
                String::new()
            };
            return Err(format!(
                "`{c}` is not allowed: use lowercase letters, digits, `-`, `_` and `.`{hint}"
            ));
        }
    }
    let first = slug.split('/').next().unwrap_or_default();
    if RESERVED_FIRST_SEGMENTS.contains(&first) {
        return Err(format!("`{first}` is reserved by the edge"));
    }
    Ok(())
}

/// Validates a project or tenant slug: 1–63 of `[a-z0-9-]`, starting with a letter or digit.
pub fn check_project_slug(slug: &str) -> Result<(), String> {
    let ok_chars = slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if slug.is_empty() || slug.len() > 63 || !ok_chars || slug.starts_with('-') {
        return Err("must be 1-63 lowercase letters, digits or `-`, not starting with `-`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_slugs() {
        for ok in ["home", "blog-first-post", "v1.2", "_intro"] {
            assert_eq!(check_page_slug(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/home",
            "home/",
            "a//b",
            "../etc",
            "a/../b",
            "Home",
            "a b",
            "api",
            "api/x",
            "blog/first-post",
            "a/b/c",
            "_next/x",
            "__homepage__",
            "x/__homepage__",
            "é",
        ] {
            assert!(check_page_slug(bad).is_err(), "{bad}");
        }
        assert!(check_page_slug(&"a".repeat(256)).is_err());
        // Slashes are refused, so the message must not suggest them.
        let upper = check_page_slug("About-Us").unwrap_err();
        assert!(!upper.contains('/'), "{upper}");
        assert!(upper.contains("`about-us` would do"), "{upper}");
    }

    #[test]
    fn project_slugs() {
        assert!(check_project_slug("my-site-2").is_ok());
        for bad in ["", "-x", "My", "a_b", &"a".repeat(64)] {
            assert!(check_project_slug(bad).is_err(), "{bad}");
        }
    }
}
