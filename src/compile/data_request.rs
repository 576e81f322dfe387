//! The pre-computed `dataRequest` of a binding, so the edge needs no adapter logic.
//!
//! Supabase sources are fetched directly from the browser or edge: POST to the
//! `frontbase_get_rows` RPC with the public anon key. SQL sources go through the edge's proxy,
//! which resolves credentials server-side: the request carries only `{query, params}` and the
//! datasource id. Both read rows at `resultPath: "rows"`; both set `flattenRelations: false`
//! because joined columns already arrive flat (`"rel.col"`), as Frontbase's backend does.

use serde_json::{json, Map, Value};

use super::diagnostics::Code;
use super::model::Datasource;
use super::query::{read_query, FilterOp, Issue, QuerySpec};
use super::sql::{build_select, join_condition, select_list, Dialect};

/// Builds the `dataRequest` for `binding` against `ds`, or `None` (with the reason in
/// `issues`) when one cannot be built.
pub fn build_data_request(
    binding: &Map<String, Value>,
    ds: &Datasource,
    issues: &mut Vec<Issue>,
) -> Option<Value> {
    let spec = read_query(binding, issues)?;
    match Dialect::for_kind(ds.kind) {
        None => supabase_request(binding, &spec, ds, issues),
        Some(dialect) => Some(sql_request(&spec, ds, dialect)),
    }
}

fn supabase_joins(spec: &QuerySpec) -> Value {
    let d = Dialect::Postgres;
    Value::Array(
        spec.joins
            .iter()
            .map(|j| {
                json!({
                    "type": "left",
                    "table": d.quote(&j.table),
                    "on": join_condition(spec, j, d),
                })
            })
            .collect(),
    )
}

/// A filter in the RPC's own vocabulary (`filterType` text | dropdown | multiselect | number |
/// dateRange | boolean).
fn rpc_filter(column: &str, op: &FilterOp) -> Value {
    let (filter_type, value) = match op {
        FilterOp::Eq(v @ Value::Bool(_)) => ("boolean", v.clone()),
        FilterOp::Eq(v) => ("dropdown", v.clone()),
        FilterOp::In(values) => ("multiselect", Value::Array(values.clone())),
        FilterOp::Contains(text) => ("text", Value::String(text.clone())),
        FilterOp::Range { min, max } => {
            let numeric = [min, max].into_iter().flatten().all(Value::is_number);
            if numeric {
                ("number", json!({ "min": min, "max": max }))
            } else {
                ("dateRange", json!({ "start": min, "end": max }))
            }
        }
    };
    json!({ "column": column, "filterType": filter_type, "value": value })
}

fn supabase_request(
    binding: &Map<String, Value>,
    spec: &QuerySpec,
    ds: &Datasource,
    issues: &mut Vec<Issue>,
) -> Option<Value> {
    let url = ds
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    let key = ds
        .anon_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let (Some(url), Some(key)) = (url, key) else {
        issues.push((
            "/datasourceId".to_owned(),
            Code::IncompleteDatasource,
            format!(
                "Supabase datasource {:?} needs an http(s) url and an anon key; no data request built",
                ds.id
            ),
        ));
        return None;
    };
    let rpc_url = format!(
        "{}/rest/v1/rpc/frontbase_get_rows",
        url.trim_end_matches('/')
    );
    let columns = select_list(spec, Dialect::Postgres);
    let joins = supabase_joins(spec);
    let sort_col = spec.sort.as_ref().map(|s| s.column.clone());
    let sort_dir = match &spec.sort {
        Some(s) if s.descending => "desc",
        _ => "asc",
    };
    let filters: Vec<Value> = spec
        .filters
        .iter()
        .map(|f| rpc_filter(&f.column, &f.op))
        .collect();
    let mut query_config = json!({
        "useRpc": true,
        "rpcUrl": rpc_url,
        "tableName": spec.table,
        "columns": columns,
        "joins": joins,
        "pageSize": spec.page_size,
        "sortColumn": sort_col,
        "sortDirection": sort_dir,
    });
    if let (Some(search), Some(config)) = (
        binding.get("searchColumns").filter(|v| v.is_array()),
        query_config.as_object_mut(),
    ) {
        config.insert("searchColumns".to_owned(), search.clone());
    }
    Some(json!({
        "url": rpc_url,
        "method": "POST",
        "headers": {
            "apikey": key,
            "Authorization": format!("Bearer {key}"),
            "Content-Type": "application/json",
        },
        "body": {
            "table_name": spec.table,
            "columns": columns,
            "joins": joins,
            "sort_col": sort_col,
            "sort_dir": sort_dir,
            "page": spec.page,
            "page_size": spec.page_size,
            "filters": filters,
        },
        "resultPath": "rows",
        "flattenRelations": false,
        "queryConfig": query_config,
        "fetchStrategy": "direct",
        "datasourceId": ds.id,
    }))
}

fn sql_request(spec: &QuerySpec, ds: &Datasource, dialect: Dialect) -> Value {
    let (query, params) = build_select(spec, dialect);
    json!({
        "url": "",
        "method": "POST",
        "headers": {},
        "body": { "query": query, "params": params },
        "resultPath": "rows",
        "flattenRelations": false,
        "queryConfig": {
            "datasourceType": ds.kind.as_str(),
            "tableName": spec.table,
        },
        "fetchStrategy": "proxy",
        "datasourceId": ds.id,
    })
}
