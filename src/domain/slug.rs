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

/// The characters of a page slug, in the order the pattern's classes list them.
const PAGE_SLUG_CHARS: &str = "-._0123456789abcdefghijklmnopqrstuvwxyz";

/// [`check_page_slug`] as the document's pattern, with `minLength` 1 and `maxLength`
/// [`MAX_PAGE_SLUG`] beside it: any word of `[a-z0-9._-]` except the dot segments and the
/// reserved first segments. A JSON Schema pattern may use lookahead and the `regex` crate may
/// not, so the exclusion is spelled out as a trie: at each prefix of a refused word, either stop
/// (unless the prefix is itself refused), go on with a character that leaves every refused
/// word (then anything may follow), or follow the next character of a refused word.
pub fn page_slug_pattern() -> String {
    let mut refused = vec![".", ".."];
    refused.extend(RESERVED_FIRST_SEGMENTS);
    format!("^{}$", all_but(&refused, ""))
}

fn all_but(refused: &[&str], prefix: &str) -> String {
    let mut next: Vec<char> = refused
        .iter()
        .filter_map(|w| w.strip_prefix(prefix)?.chars().next())
        .collect();
    next.sort_unstable();
    next.dedup();
    let mut parts = Vec::new();
    if !refused.contains(&prefix) {
        parts.push(String::new());
    }
    let others: String = PAGE_SLUG_CHARS
        .chars()
        .filter(|c| !next.contains(c))
        .collect();
    parts.push(format!("[{}][a-z0-9._-]*", class(&others)));
    for c in next {
        let escaped = if c == '.' {
            "\\.".to_string()
        } else {
            c.to_string()
        };
        parts.push(format!(
            "{escaped}{}",
            all_but(refused, &format!("{prefix}{c}"))
        ));
    }
    format!("({})", parts.join("|"))
}

/// A character class body for `chars` (sorted as [`PAGE_SLUG_CHARS`]), runs written as ranges.
fn class(chars: &str) -> String {
    let cs: Vec<char> = chars.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < cs.len() {
        let mut j = i;
        while j + 1 < cs.len() && cs[j + 1] as u32 == cs[j] as u32 + 1 {
            j += 1;
        }
        let esc = |c: char| {
            if c == '-' {
                "\\-".to_string()
            } else {
                c.to_string()
            }
        };
        if j >= i + 2 {
            out.push_str(&format!("{}-{}", esc(cs[i]), esc(cs[j])));
        } else {
            (i..=j).for_each(|k| out.push_str(&esc(cs[k])));
        }
        i = j + 1;
    }
    out
}

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
