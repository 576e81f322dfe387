//! Coping with an edge-created `published_pages` that declares `slug` globally unique (which
//! breaks two tenants sharing a slug): the statements that remove that constraint.

/// The table's own SQL and that of its explicitly created indexes: rows `type, name, sql`,
/// the table first.
pub const TABLE_SQL: &str =
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'published_pages' \
                             AND sql IS NOT NULL ORDER BY type DESC, name";

/// Splits a column list at top-level commas.
fn top_level_parts(body: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0i32, 0, Vec::new());
    let mut quote: Option<char> = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}

fn is_slug_only(spec: &str) -> bool {
    let inner: String = spec
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '"' | '`' | '[' | ']') && !c.is_whitespace())
        .collect();
    inner.eq_ignore_ascii_case("slug")
}

/// Whether an index's SQL makes `slug` unique on its own.
fn is_global_slug_index(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    upper.starts_with("CREATE UNIQUE INDEX")
        && sql
            .find('(')
            .zip(sql.rfind(')'))
            .is_some_and(|(a, b)| a < b && is_slug_only(&sql[a..=b]))
}

/// An edge that created `published_pages` itself declared `slug` globally unique, which
/// breaks two tenants sharing a slug. Given the rows of `TABLE_SQL` (type, name, sql), returns
/// the statements that remove that constraint, to run in one transaction: a unique index is
/// dropped; a constraint in the table is removed by SQLite's documented rebuild (new table,
/// copy every row, drop, rename, recreate the other indexes). `None` when there is none.
pub fn fix_global_slug_unique(rows: &[(String, String, String)]) -> Option<Vec<String>> {
    let table = rows.iter().find(|r| r.0 == "table").map(|r| r.2.as_str())?;
    let indexes: Vec<&(String, String, String)> = rows.iter().filter(|r| r.0 == "index").collect();
    let (bad, others): (Vec<_>, Vec<_>) = indexes
        .into_iter()
        .partition(|r| is_global_slug_index(&r.2));
    let others: Vec<String> = others.iter().map(|r| r.2.clone()).collect();
    match rebuild_without_global_slug_unique(table, &others) {
        Some(stmts) => Some(stmts),
        None if bad.is_empty() => None,
        None => Some(
            bad.iter()
                .map(|r| format!("DROP INDEX \"{}\"", r.1.replace('"', "\"\"")))
                .collect(),
        ),
    }
}

fn rebuild_without_global_slug_unique(
    table_sql: &str,
    index_sql: &[String],
) -> Option<Vec<String>> {
    let open = table_sql.find('(')?;
    let close = table_sql.rfind(')')?;
    let parts = top_level_parts(&table_sql[open + 1..close]);
    let mut changed = false;
    let mut kept: Vec<String> = Vec::new();
    for part in parts {
        let t = part.trim();
        let upper = t.to_ascii_uppercase();
        let first = t
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']');
        if first.eq_ignore_ascii_case("slug") && upper.contains(" UNIQUE") {
            let words: Vec<&str> = t
                .split_whitespace()
                .filter(|w| !w.eq_ignore_ascii_case("UNIQUE"))
                .collect();
            kept.push(words.join(" "));
            changed = true;
        } else if let Some(at) = upper.find("UNIQUE") {
            let spec = &t[at + "UNIQUE".len()..];
            if (upper.starts_with("UNIQUE") || upper.starts_with("CONSTRAINT"))
                && is_slug_only(spec)
            {
                changed = true;
            } else {
                kept.push(t.to_string());
            }
        } else {
            kept.push(t.to_string());
        }
    }
    if !changed {
        return None;
    }
    let mut out = vec![
        "DROP TABLE IF EXISTS _edgepub_published_pages_rebuild".to_string(),
        format!(
            "CREATE TABLE _edgepub_published_pages_rebuild ({})",
            kept.join(", ")
        ),
        "INSERT INTO _edgepub_published_pages_rebuild SELECT * FROM published_pages".to_string(),
        "DROP TABLE published_pages".to_string(),
        "ALTER TABLE _edgepub_published_pages_rebuild RENAME TO published_pages".to_string(),
    ];
    out.extend(index_sql.iter().cloned());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::targets::pages_db::SCHEMA;

    #[test]
    fn the_global_slug_constraint_goes_and_everything_else_stays() {
        let edge = "CREATE TABLE published_pages (\n    slug TEXT NOT NULL UNIQUE, id TEXT PRIMARY KEY, name TEXT NOT NULL,\n    version INTEGER NOT NULL DEFAULT 1, CHECK (version >= 1))";
        let idx = vec!["CREATE INDEX edge_idx ON published_pages (name)".to_string()];
        let stmts = rebuild_without_global_slug_unique(edge, &idx).unwrap();
        assert_eq!(
            stmts[1],
            "CREATE TABLE _edgepub_published_pages_rebuild (slug TEXT NOT NULL, id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1, CHECK (version >= 1))"
        );
        assert_eq!(stmts.last().unwrap(), &idx[0]);
        let table_level =
            "CREATE TABLE published_pages (id TEXT PRIMARY KEY, slug TEXT NOT NULL, UNIQUE (slug))";
        let stmts = rebuild_without_global_slug_unique(table_level, &[]).unwrap();
        assert!(!stmts[1].contains("UNIQUE"), "{}", stmts[1]);
        let ours = SCHEMA[0];
        assert!(rebuild_without_global_slug_unique(ours, &[]).is_none());
        let per_tenant = "CREATE TABLE published_pages (id TEXT, slug TEXT, tenant_slug TEXT, UNIQUE (tenant_slug, slug))";
        assert!(rebuild_without_global_slug_unique(per_tenant, &[]).is_none());
        let row = |t: &str, n: &str, s: &str| (t.to_string(), n.to_string(), s.to_string());
        let by_index = [
            row("table", "published_pages", ours),
            row(
                "index",
                "u",
                "CREATE UNIQUE INDEX u ON published_pages (slug)",
            ),
            row(
                "index",
                "k",
                "CREATE UNIQUE INDEX k ON published_pages (tenant_slug, slug)",
            ),
        ];
        assert_eq!(
            fix_global_slug_unique(&by_index).unwrap(),
            ["DROP INDEX \"u\""]
        );
        assert!(fix_global_slug_unique(&by_index[..1]).is_none());
    }
}
