//! SQL text for a [`QuerySpec`]: identifier quoting per dialect and the SELECT the edge's proxy
//! runs. Identifiers are always quoted (embedded quotes doubled, NULs dropped) and every filter
//! value travels as a positional parameter, so nothing from a draft is ever spliced into SQL
//! as code. LIMIT and OFFSET are numbers the compiler computed itself.

use serde_json::Value;

use super::model::DatasourceKind;
use super::query::{Column, FilterOp, Join, QuerySpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// postgres, neon (and Supabase's RPC, which splices `columns` and `joins` as given).
    Postgres,
    /// mysql, planetscale.
    MySql,
    /// sqlite, turso.
    Sqlite,
}

impl Dialect {
    /// The dialect of a datasource queried through the proxy; `None` for Supabase.
    pub fn for_kind(kind: DatasourceKind) -> Option<Self> {
        match kind {
            DatasourceKind::Supabase => None,
            DatasourceKind::Postgres | DatasourceKind::Neon => Some(Self::Postgres),
            DatasourceKind::Mysql | DatasourceKind::Planetscale => Some(Self::MySql),
            DatasourceKind::Sqlite | DatasourceKind::Turso => Some(Self::Sqlite),
        }
    }

    /// Quotes one identifier part.
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Self::MySql => '`',
            Self::Postgres | Self::Sqlite => '"',
        };
        let mut out = String::with_capacity(ident.len() + 2);
        out.push(q);
        for c in ident.chars().filter(|&c| c != '\0') {
            if c == q {
                out.push(q);
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// Quotes a possibly schema-qualified name (`public.users`) part by part.
    pub fn quote_path(self, path: &str) -> String {
        path.split('.')
            .map(|part| self.quote(part))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::MySql | Self::Sqlite => "?".to_owned(),
        }
    }

    /// Case-insensitive substring match: ILIKE where it exists; LIKE is already
    /// case-insensitive for ASCII in MySQL's default collations and in SQLite.
    fn contains_op(self) -> &'static str {
        match self {
            Self::Postgres => "ILIKE",
            Self::MySql | Self::Sqlite => "LIKE",
        }
    }
}

/// The select list; `*` when the spec asks for every column.
pub fn select_list(spec: &QuerySpec, d: Dialect) -> String {
    if spec.columns.is_empty() {
        return "*".to_owned();
    }
    let table = d.quote_path(&spec.table);
    spec.columns
        .iter()
        .map(|c| match c {
            Column::All => format!("{table}.*"),
            Column::Base(col) => format!("{table}.{}", d.quote(col)),
            Column::Related { table: t, column } => format!(
                "{}.{} AS {}",
                d.quote(t),
                d.quote(column),
                d.quote(&format!("{t}.{column}"))
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `ON` condition of a left join to a related table.
pub fn join_condition(spec: &QuerySpec, join: &Join, d: Dialect) -> String {
    format!(
        "{}.{} = {}.{}",
        d.quote_path(&spec.table),
        d.quote(&join.column),
        d.quote(&join.table),
        d.quote(&join.referenced_column)
    )
}

/// A filter or sort column: `rel.col` names a joined table, anything else the base table.
fn column_ref(spec: &QuerySpec, column: &str, d: Dialect) -> String {
    match column.split_once('.') {
        Some((t, c)) => format!("{}.{}", d.quote(t), d.quote(c)),
        None => format!("{}.{}", d.quote_path(&spec.table), d.quote(column)),
    }
}

/// The SELECT for `spec` and its positional parameters.
pub fn build_select(spec: &QuerySpec, d: Dialect) -> (String, Vec<Value>) {
    let mut sql = format!(
        "SELECT {} FROM {}",
        select_list(spec, d),
        d.quote_path(&spec.table)
    );
    for join in &spec.joins {
        sql.push_str(&format!(
            " LEFT JOIN {} ON {}",
            d.quote(&join.table),
            join_condition(spec, join, d)
        ));
    }
    let mut params: Vec<Value> = Vec::new();
    let next = |value: Value, params: &mut Vec<Value>| {
        params.push(value);
        d.placeholder(params.len())
    };
    let mut conditions: Vec<String> = Vec::new();
    for filter in &spec.filters {
        let col = column_ref(spec, &filter.column, d);
        match &filter.op {
            FilterOp::Eq(v) => conditions.push(format!("{col} = {}", next(v.clone(), &mut params))),
            FilterOp::In(values) => {
                let marks: Vec<String> = values
                    .iter()
                    .map(|v| next(v.clone(), &mut params))
                    .collect();
                conditions.push(format!("{col} IN ({})", marks.join(", ")));
            }
            FilterOp::Contains(text) => {
                let mark = next(Value::String(format!("%{text}%")), &mut params);
                conditions.push(format!("{col} {} {mark}", d.contains_op()));
            }
            FilterOp::Range { min, max } => {
                if let Some(v) = min {
                    conditions.push(format!("{col} >= {}", next(v.clone(), &mut params)));
                }
                if let Some(v) = max {
                    conditions.push(format!("{col} <= {}", next(v.clone(), &mut params)));
                }
            }
        }
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    if let Some(sort) = &spec.sort {
        let dir = if sort.descending { "DESC" } else { "ASC" };
        sql.push_str(&format!(
            " ORDER BY {} {dir}",
            column_ref(spec, &sort.column, d)
        ));
    }
    sql.push_str(&format!(
        " LIMIT {} OFFSET {}",
        spec.page_size,
        spec.offset()
    ));
    (sql, params)
}
