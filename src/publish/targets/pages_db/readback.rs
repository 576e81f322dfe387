//! Reading a tenant's page rows back whole, to compare them column by column with the rows the
//! release's compiled pages make: a hand edit of a title, layout or CSS keeps the version and
//! content-hash columns, so only the content itself shows it.

use super::{in_list, SqlValue, Stmt, PAGE_COLS, ROW_PARAMS};

/// `published_pages`' columns in `PAGE_COLS` (and so `page_row`) order.
pub const PAGE_COLUMNS: [&str; ROW_PARAMS] = [
    "id",
    "slug",
    "name",
    "title",
    "description",
    "layout_data",
    "seo_data",
    "datasources",
    "css_bundle",
    "version",
    "published_at",
    "is_public",
    "is_homepage",
    "created_at",
    "updated_at",
    "content_hash",
    "tenant_slug",
];

/// When a row was first and last written, not what it holds: a row kept across releases has
/// an older `created_at`, and a repair does not make a page new.
const BOOKKEEPING: [&str; 2] = ["created_at", "updated_at"];

/// The whole rows of the pages `ids` of a tenant, every column in `PAGE_COLUMNS` order.
pub fn rows(tenant: &str, ids: &[&str]) -> Vec<Stmt> {
    in_list(
        &format!("SELECT {PAGE_COLS} FROM published_pages"),
        tenant,
        ids,
    )
}

/// The columns in which a row found on a target differs from the row its page should be.
pub fn differing_columns(expected: &[SqlValue], found: &[SqlValue]) -> Vec<&'static str> {
    PAGE_COLUMNS
        .iter()
        .enumerate()
        .filter(|(i, name)| !BOOKKEEPING.contains(name) && expected.get(*i) != found.get(*i))
        .map(|(_, name)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_are_the_written_columns() {
        let written: Vec<&str> = PAGE_COLS.split(',').map(str::trim).collect();
        assert_eq!(written, PAGE_COLUMNS);
    }

    #[test]
    fn only_content_columns_count() {
        let row: Vec<SqlValue> = PAGE_COLUMNS.iter().map(|c| SqlValue::from(*c)).collect();
        let mut found = row.clone();
        found[13] = SqlValue::from("another creation time");
        assert!(differing_columns(&row, &found).is_empty());
        found[3] = SqlValue::Null;
        found[5] = SqlValue::from("{}");
        assert_eq!(differing_columns(&row, &found), ["title", "layout_data"]);
    }
}
