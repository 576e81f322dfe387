use serde_json::{json, Value};

use super::{compile, compile_content, content_of, datasource, found, homepage};
use crate::compile::{Code, DatasourceKind, ProjectContext, ProjectInput};

/// The data request of a DataTable bound with `binding`, and the diagnostics.
fn request_for(binding: Value) -> (Value, Vec<(String, Code)>) {
    let out = compile_content(json!([{ "id": "c", "type": "DataTable", "binding": binding }]));
    let request = content_of(&out)[0]["binding"]
        .get("dataRequest")
        .cloned()
        .unwrap_or(Value::Null);
    (request, found(&out))
}

fn query_of(binding: Value) -> (String, Value) {
    let (request, _) = request_for(binding);
    let query = request["body"]["query"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (query, request["body"]["params"].clone())
}

#[test]
fn supabase_binding_gets_the_exact_rpc_request() {
    let (request, diags) = request_for(json!({
        "datasourceId": "ds-supa", "tableName": "users", "columns": ["id", "name"],
        "sorting": { "enabled": true, "column": "name", "direction": "desc" },
        "pagination": { "enabled": true, "pageSize": 10, "page": 2 },
        "filters": { "status": "active" }
    }));
    let url = "https://abc.supabase.co/rest/v1/rpc/frontbase_get_rows";
    let columns = r#""users"."id", "users"."name""#;
    assert_eq!(
        request,
        json!({
            "url": url,
            "method": "POST",
            "headers": {
                "apikey": "anon-123",
                "Authorization": "Bearer anon-123",
                "Content-Type": "application/json"
            },
            "body": {
                "table_name": "users", "columns": columns, "joins": [],
                "sort_col": "name", "sort_dir": "desc", "page": 2, "page_size": 10,
                "filters": [{ "column": "status", "filterType": "dropdown", "value": "active" }]
            },
            "resultPath": "rows",
            "flattenRelations": false,
            "queryConfig": {
                "useRpc": true, "rpcUrl": url, "tableName": "users", "columns": columns,
                "joins": [], "pageSize": 10, "sortColumn": "name", "sortDirection": "desc"
            },
            "fetchStrategy": "direct",
            "datasourceId": "ds-supa"
        })
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn supabase_defaults() {
    let (request, _) = request_for(json!({ "datasourceId": "ds-supa", "tableName": "t" }));
    assert_eq!(
        request["body"],
        json!({
            "table_name": "t", "columns": "*", "joins": [], "sort_dir": "asc",
            "page": 1, "page_size": 20, "filters": []
        })
    );
}

#[test]
fn supabase_related_columns_join_through_foreign_keys() {
    let (request, _) = request_for(json!({
        "datasourceId": "ds-supa", "tableName": "t", "columns": ["*", "c.name", { "name": "t.id" }],
        "foreignKeys": [{ "column": "cid", "referencedTable": "c", "referencedColumn": "id" }],
        "searchColumns": ["c.name"]
    }));
    assert_eq!(
        request["body"]["columns"],
        r#""t".*, "c"."name" AS "c.name", "t"."id""#
    );
    assert_eq!(
        request["body"]["joins"],
        json!([{ "type": "left", "table": "\"c\"", "on": r#""t"."cid" = "c"."id""# }])
    );
    assert_eq!(request["queryConfig"]["searchColumns"], json!(["c.name"]));
}

#[test]
fn supabase_filters_use_the_rpc_vocabulary() {
    let (request, diags) = request_for(json!({
        "datasourceId": "ds-supa", "tableName": "t",
        "filters": {
            "a": true, "b": [1, 2], "c": { "min": 1 },
            "d": { "min": "2024-01-01", "max": "2024-02-01" },
            "e": { "value": "x", "filterType": "text" }, "f": []
        }
    }));
    assert_eq!(
        request["body"]["filters"],
        json!([
            { "column": "a", "filterType": "boolean", "value": true },
            { "column": "b", "filterType": "multiselect", "value": [1, 2] },
            { "column": "c", "filterType": "number", "value": { "min": 1 } },
            { "column": "d", "filterType": "dateRange", "value": { "start": "2024-01-01", "end": "2024-02-01" } },
            { "column": "e", "filterType": "text", "value": "x" }
        ])
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn postgres_binding_gets_a_proxy_request() {
    let (request, _) = request_for(json!({ "datasourceId": "ds-pg", "tableName": "t" }));
    assert_eq!(
        request,
        json!({
            "url": "", "method": "POST", "headers": {},
            "body": { "query": r#"SELECT * FROM "t" LIMIT 20 OFFSET 0"#, "params": [] },
            "resultPath": "rows", "flattenRelations": false,
            "queryConfig": { "datasourceType": "postgres", "tableName": "t" },
            "fetchStrategy": "proxy", "datasourceId": "ds-pg"
        })
    );
}

fn rich_binding(ds: &str) -> Value {
    json!({
        "datasourceId": ds, "tableName": "orders", "columns": ["id", "total", "customers.name"],
        "foreignKeys": [{ "column": "customer_id", "referencedTable": "customers", "referencedColumn": "id" }],
        "sorting": { "column": "created_at" },
        "pagination": { "pageSize": 25, "page": 3 },
        "filters": { "status": "paid", "total": { "min": 10, "max": 100 }, "region": ["eu", "us"],
                     "note": { "value": "rush", "filterType": "text" } }
    })
}

#[test]
fn postgres_family_quotes_with_double_quotes_and_numbers_parameters() {
    let expected = concat!(
        r#"SELECT "orders"."id", "orders"."total", "customers"."name" AS "customers.name" "#,
        r#"FROM "orders" LEFT JOIN "customers" ON "orders"."customer_id" = "customers"."id" "#,
        r#"WHERE "orders"."note" ILIKE $1 AND "orders"."region" IN ($2, $3) "#,
        r#"AND "orders"."status" = $4 AND "orders"."total" >= $5 AND "orders"."total" <= $6 "#,
        r#"ORDER BY "orders"."created_at" ASC LIMIT 25 OFFSET 50"#
    );
    for ds in ["ds-pg", "ds-neon"] {
        let (query, params) = query_of(rich_binding(ds));
        assert_eq!(query, expected, "{ds}");
        assert_eq!(
            params,
            json!(["%rush%", "eu", "us", "paid", 10, 100]),
            "{ds}"
        );
    }
}

#[test]
fn mysql_family_quotes_with_backticks() {
    let expected = concat!(
        "SELECT `orders`.`id`, `orders`.`total`, `customers`.`name` AS `customers.name` ",
        "FROM `orders` LEFT JOIN `customers` ON `orders`.`customer_id` = `customers`.`id` ",
        "WHERE `orders`.`note` LIKE ? AND `orders`.`region` IN (?, ?) ",
        "AND `orders`.`status` = ? AND `orders`.`total` >= ? AND `orders`.`total` <= ? ",
        "ORDER BY `orders`.`created_at` ASC LIMIT 25 OFFSET 50"
    );
    for ds in ["ds-my", "ds-ps"] {
        let (query, params) = query_of(rich_binding(ds));
        assert_eq!(query, expected, "{ds}");
        assert_eq!(
            params,
            json!(["%rush%", "eu", "us", "paid", 10, 100]),
            "{ds}"
        );
    }
}

#[test]
fn sqlite_family_quotes_with_double_quotes_and_question_marks() {
    for ds in ["ds-lite", "ds-turso"] {
        let (query, _) = query_of(json!({
            "datasourceId": ds, "tableName": "t", "filters": { "a": 1 },
            "sorting": { "column": "b", "direction": "DESC" }
        }));
        assert_eq!(
            query,
            r#"SELECT * FROM "t" WHERE "t"."a" = ? ORDER BY "t"."b" DESC LIMIT 20 OFFSET 0"#
        );
    }
}

#[test]
fn identifiers_cannot_break_out_of_their_quotes() {
    let (query, _) = query_of(json!({
        "datasourceId": "ds-pg", "tableName": "users\"; DROP TABLE x; --", "columns": ["a\"b"]
    }));
    assert_eq!(
        query,
        r#"SELECT "users""; DROP TABLE x; --"."a""b" FROM "users""; DROP TABLE x; --" LIMIT 20 OFFSET 0"#
    );
    let (query, _) =
        query_of(json!({ "datasourceId": "ds-my", "tableName": "t`x", "columns": ["a`b"] }));
    assert_eq!(query, "SELECT `t``x`.`a``b` FROM `t``x` LIMIT 20 OFFSET 0");
    let (query, _) = query_of(json!({ "datasourceId": "ds-pg", "tableName": "public.users" }));
    assert_eq!(query, r#"SELECT * FROM "public"."users" LIMIT 20 OFFSET 0"#);
}

#[test]
fn pagination_is_bounded() {
    let cases = [
        (
            json!({ "enabled": false, "pageSize": 5 }),
            "LIMIT 1000 OFFSET 0",
        ),
        (json!({ "pageSize": 5000 }), "LIMIT 1000 OFFSET 0"),
        (json!({ "pageSize": "15", "page": 2 }), "LIMIT 15 OFFSET 15"),
        (json!({ "pageSize": -3, "page": 0 }), "LIMIT 20 OFFSET 0"),
        (json!("weird"), "LIMIT 20 OFFSET 0"),
    ];
    for (pagination, tail) in cases {
        let (query, _) = query_of(
            json!({ "datasourceId": "ds-pg", "tableName": "t", "pagination": pagination }),
        );
        assert!(query.ends_with(tail), "{query}");
    }
}

#[test]
fn unsupported_filters_and_relations_are_left_out_with_warnings() {
    let (request, diags) = request_for(json!({
        "datasourceId": "ds-pg", "tableName": "t", "columns": ["x.y"],
        "filters": { "a": { "foo": 1 }, "b": { "operator": "neq", "value": 1 }, "c/d": [{}] }
    }));
    assert_eq!(
        request["body"]["query"],
        r#"SELECT * FROM "t" LIMIT 20 OFFSET 0"#
    );
    let base = "/layout_data/content/0/binding";
    assert_eq!(
        diags,
        vec![
            (format!("{base}/columns"), Code::UnresolvedRelation),
            (format!("{base}/filters/a"), Code::UnsupportedFilter),
            (format!("{base}/filters/b"), Code::UnsupportedFilter),
            (format!("{base}/filters/c~1d"), Code::UnsupportedFilter),
        ]
    );
}

#[test]
fn unknown_or_missing_datasources_get_no_request() {
    let (request, diags) = request_for(json!({ "datasource_id": "nope", "tableName": "t" }));
    assert!(request.is_null());
    let pointer = "/layout_data/content/0/binding/datasource_id".to_owned();
    assert_eq!(diags, vec![(pointer, Code::UnknownDatasource)]);

    let (request, diags) = request_for(json!({ "tableName": "t" }));
    assert!(request.is_null());
    let pointer = "/layout_data/content/0/binding".to_owned();
    assert_eq!(diags, vec![(pointer, Code::MissingDatasourceId)]);

    let (request, diags) = request_for(json!({ "datasourceId": "ds-pg" }));
    assert!(request.is_null());
    let pointer = "/layout_data/content/0/binding/tableName".to_owned();
    assert_eq!(diags, vec![(pointer, Code::MissingTableName)]);
}

#[test]
fn a_supabase_source_without_url_or_key_gets_no_request() {
    let mut ds = datasource("s", DatasourceKind::Supabase);
    ds.anon_key = None;
    let content = json!([{ "id": "c", "type": "DataTable", "binding": { "datasourceId": "s", "tableName": "t" } }]);
    let out = compile(&ProjectInput {
        pages: vec![homepage("p", json!({ "content": content }))],
        datasources: vec![ds],
        context: ProjectContext::default(),
    });
    assert!(content_of(&out)[0]["binding"].get("dataRequest").is_none());
    let pointer = "/layout_data/content/0/binding/datasourceId".to_owned();
    assert_eq!(found(&out), vec![(pointer, Code::IncompleteDatasource)]);
}
