//! Binding a page's saved fields, written once for the page row and its history row.

use crate::domain::page::PageFields;
use serde_json::Value;
use sqlx::types::Json;

/// Binds a page's saved fields in the order both the page row and its history row list them
/// (`slug, name, title, description, layout_data, seo_data, is_public, is_homepage`).
pub(super) trait BindFields<'q> {
    fn bind_fields(self, f: &'q PageFields) -> Self;
}

impl<'q, DB: sqlx::Database> BindFields<'q>
    for sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Json<&'q serde_json::value::RawValue>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Json<&'q Value>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    fn bind_fields(self, f: &'q PageFields) -> Self {
        self.bind(&f.slug)
            .bind(&f.name)
            .bind(&f.title)
            .bind(&f.description)
            .bind(Json(&*f.layout_data))
            .bind(f.seo_data.as_ref().map(Json))
            .bind(f.is_public)
            .bind(f.is_homepage)
    }
}
