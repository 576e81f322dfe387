//! Reads a binding into a [`QuerySpec`]: the table, columns, joins, sort, page and filters the
//! data request asks for. Both request builders (Supabase RPC and SQL) start from it, so the
//! two agree on what a binding means.
//!
//! Binding shape read here (the builder's, everything optional except `tableName`):
//! `columnOrder` / `columns` (names, or objects with `name`), `foreignKeys`
//! (`[{column, referencedTable, referencedColumn}]`), `sorting` (`{enabled, column,
//! direction}`), `pagination` (`{enabled, pageSize, page}`) and `filters` (`{column: value}`,
//! or `[{column, value, filterType}]`).

use serde_json::{Map, Value};

use super::diagnostics::{push_pointer, Code};
use super::json::{get_obj, get_str};

/// Page size when the binding gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page fetched, also used when pagination is switched off.
pub const MAX_PAGE_SIZE: u64 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// `*`: every column of the base table.
    All,
    Base(String),
    /// `table.column` of a joined table.
    Related {
        table: String,
        column: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub table: String,
    pub column: String,
    pub referenced_column: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub column: String,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterOp {
    Eq(Value),
    In(Vec<Value>),
    Contains(String),
    Range {
        min: Option<Value>,
        max: Option<Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: String,
    pub op: FilterOp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuerySpec {
    pub table: String,
    /// Empty means every column (`*`).
    pub columns: Vec<Column>,
    pub joins: Vec<Join>,
    pub sort: Option<Sort>,
    pub page: u64,
    pub page_size: u64,
    pub filters: Vec<Filter>,
}

impl QuerySpec {
    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.page_size)
    }
}

/// A problem found while reading a binding, with a pointer relative to the binding.
pub type Issue = (String, Code, String);

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Reads `binding`; `None` when it names no table (reported in `issues`).
pub fn read_query(binding: &Map<String, Value>, issues: &mut Vec<Issue>) -> Option<QuerySpec> {
    let Some(table) = non_empty(get_str(binding, "tableName").or(get_str(binding, "table_name")))
    else {
        issues.push((
            "/tableName".to_owned(),
            Code::MissingTableName,
            "binding names no table, so no data request was built".to_owned(),
        ));
        return None;
    };
    let table = table.to_owned();
    let foreign_keys = read_foreign_keys(binding);
    let mut joins: Vec<Join> = Vec::new();
    let mut columns: Vec<Column> = Vec::new();
    for name in read_column_names(binding) {
        let column = match name.split_once('.') {
            _ if name == "*" => Column::All,
            Some((t, c)) if t == table => Column::Base(c.to_owned()),
            Some((t, c)) => {
                let Some(fk) = foreign_keys.iter().find(|fk| fk.table == t) else {
                    issues.push((
                        "/columns".to_owned(),
                        Code::UnresolvedRelation,
                        format!("column {name:?} names table {t:?}, which no foreign key joins; column left out"),
                    ));
                    continue;
                };
                if !joins.contains(fk) {
                    joins.push(fk.clone());
                }
                Column::Related {
                    table: t.to_owned(),
                    column: c.to_owned(),
                }
            }
            None => Column::Base(name),
        };
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    if columns == [Column::All] {
        columns.clear();
    }
    let (page, page_size) = read_pagination(binding);
    Some(QuerySpec {
        table,
        columns,
        joins,
        sort: read_sort(binding),
        page,
        page_size,
        filters: read_filters(binding, issues),
    })
}

fn read_column_names(binding: &Map<String, Value>) -> Vec<String> {
    let raw = binding
        .get("columnOrder")
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        .or_else(|| binding.get("columns"));
    let names: Vec<String> = match raw {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::String(s) => Some(s.as_str()),
                Value::Object(o) => get_str(o, "name").or(get_str(o, "column_name")),
                _ => None,
            })
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

fn read_foreign_keys(binding: &Map<String, Value>) -> Vec<Join> {
    let raw = binding
        .get("foreignKeys")
        .or_else(|| binding.get("foreign_keys"));
    let Some(Value::Array(items)) = raw else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|fk| {
            let column = non_empty(get_str(fk, "column"))?;
            let table =
                non_empty(get_str(fk, "referencedTable").or(get_str(fk, "referenced_table")))?;
            let referenced =
                non_empty(get_str(fk, "referencedColumn").or(get_str(fk, "referenced_column")))?;
            Some(Join {
                table: table.to_owned(),
                column: column.to_owned(),
                referenced_column: referenced.to_owned(),
            })
        })
        .collect()
}

fn read_sort(binding: &Map<String, Value>) -> Option<Sort> {
    let sorting = get_obj(binding, "sorting")?;
    if sorting.get("enabled") == Some(&Value::Bool(false)) {
        return None;
    }
    let column = non_empty(get_str(sorting, "column"))?;
    let descending = get_str(sorting, "direction").is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    Some(Sort {
        column: column.to_owned(),
        descending,
    })
}

/// A positive whole number from a JSON number or numeric string.
fn positive_int(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 1.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n >= 1)
}

fn read_pagination(binding: &Map<String, Value>) -> (u64, u64) {
    let Some(pagination) = get_obj(binding, "pagination") else {
        return (1, DEFAULT_PAGE_SIZE);
    };
    if pagination.get("enabled") == Some(&Value::Bool(false)) {
        return (1, MAX_PAGE_SIZE);
    }
    let size = positive_int(pagination.get("pageSize"))
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let page = positive_int(pagination.get("page")).unwrap_or(1);
    (page, size)
}

fn is_scalar(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// One filter value as an operation; `Ok(None)` for a filter that asks for nothing (an empty
/// list), `Err(())` for a shape no datasource can express.
fn filter_op(value: &Value) -> Result<Option<FilterOp>, ()> {
    match value {
        v if is_scalar(v) => Ok(Some(FilterOp::Eq(v.clone()))),
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Array(items) if items.iter().all(is_scalar) => Ok(Some(FilterOp::In(items.clone()))),
        Value::Object(o) => {
            if let Some(inner) = o.get("value") {
                let text = get_str(o, "filterType") == Some("text");
                let operator = get_str(o, "operator").unwrap_or("eq");
                return match (operator, inner) {
                    ("contains", Value::String(s)) => Ok(Some(FilterOp::Contains(s.clone()))),
                    (_, Value::String(s)) if text => Ok(Some(FilterOp::Contains(s.clone()))),
                    ("gte", v) if is_scalar(v) => Ok(Some(FilterOp::Range {
                        min: Some(v.clone()),
                        max: None,
                    })),
                    ("lte", v) if is_scalar(v) => Ok(Some(FilterOp::Range {
                        min: None,
                        max: Some(v.clone()),
                    })),
                    // Nested `{value: {value: ..}}` is refused rather than unwrapped forever.
                    (_, Value::Object(_)) if inner.get("value").is_some() => Err(()),
                    ("eq" | "=" | "==" | "in", _) => filter_op(inner),
                    _ => Err(()),
                };
            }
            let min = o.get("min").filter(|v| is_scalar(v)).cloned();
            let max = o.get("max").filter(|v| is_scalar(v)).cloned();
            if min.is_none() && max.is_none() {
                return Err(());
            }
            Ok(Some(FilterOp::Range { min, max }))
        }
        _ => Err(()),
    }
}

fn read_filters(binding: &Map<String, Value>, issues: &mut Vec<Issue>) -> Vec<Filter> {
    let entries: Vec<(String, String, &Value)> = match binding.get("filters") {
        Some(Value::Object(map)) => {
            // Sorted explicitly so parameter order never depends on `preserve_order`.
            let mut entries: Vec<_> = map
                .iter()
                .map(|(col, v)| (push_pointer("/filters", col), col.clone(), v))
                .collect();
            entries.sort_by(|a, b| a.1.cmp(&b.1));
            entries
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let o = item.as_object()?;
                let col = non_empty(get_str(o, "column"))?;
                Some((format!("/filters/{i}"), col.to_owned(), item))
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut filters = Vec::new();
    for (pointer, column, value) in entries {
        match filter_op(value) {
            Ok(Some(op)) => filters.push(Filter { column, op }),
            Ok(None) => {}
            Err(()) => issues.push((
                pointer,
                Code::UnsupportedFilter,
                format!("filter on {column:?} has a shape no datasource can run; left out"),
            )),
        }
    }
    filters
}
