//! The synthetic pages the benchmark seeds: nested sections, rows, cards, a DataTable bound
//! to a datasource, styles with viewport overrides.

use serde_json::{json, Value};

fn style(values: Value, mobile: Value) -> Value {
    json!({ "values": values, "viewportOverrides": { "mobile": mobile } })
}

fn leaf(id: String, ty: &str, props: Value, values: Value, mobile: Value) -> Value {
    json!({ "id": id, "type": ty, "props": props, "stylesData": style(values, mobile) })
}

/// A card: heading, text, image and button, each with styles and a mobile override.
fn card(page: usize, id: &str) -> Value {
    let text = format!(
        "Page {page}, {id}: a short paragraph of marketing copy that describes a feature, \
         its benefits and why a visitor should care about it, written by a real person."
    );
    json!({
        "id": id, "type": "Card",
        "props": { "elevation": 1, "variant": "outlined" },
        "stylesData": style(json!({"padding": {"top": 24, "right": 24, "bottom": 24, "left": 24},
            "borderRadius": "12px", "backgroundColor": "#ffffff", "boxShadow": "0 1px 3px rgba(0,0,0,0.12)"}),
            json!({"padding": {"top": 12, "right": 12, "bottom": 12, "left": 12}})),
        "children": [
            leaf(format!("{id}-h"), "Heading", json!({"text": format!("Feature {id}"), "level": 3}),
                json!({"fontSize": 24, "fontWeight": 600, "color": "#111827", "marginBottom": "8px"}),
                json!({"fontSize": 18})),
            leaf(format!("{id}-t"), "Text", json!({"text": text}),
                json!({"fontSize": 16, "lineHeight": 1.6, "color": "#4b5563"}), json!({"fontSize": 14})),
            leaf(format!("{id}-i"), "Image",
                json!({"src": format!("https://cdn.example.com/img/{page}/{id}.webp"), "alt": format!("Illustration {id}"), "loading": "lazy"}),
                json!({"width": "100%", "height": 180, "objectFit": "cover", "borderRadius": "8px"}),
                json!({"height": 120})),
            leaf(format!("{id}-b"), "Button",
                json!({"text": "Learn more", "href": format!("/features/{id}"), "variant": "primary", "size": "md"}),
                json!({"backgroundColor": "#2563eb", "color": "#ffffff", "padding": "8px 16px"}),
                json!({"width": "100%"})),
        ]
    })
}

fn data_table(page: usize, id: String, ds: &str) -> Value {
    json!({
        "id": id, "type": "DataTable",
        "props": { "title": format!("Recent orders ({page})"), "striped": true,
            "binding": { "dataSourceId": ds, "tableName": "orders",
                "columns": ["id", "total", "status", "created_at", "customers.name", "customers.email"],
                "foreignKeys": [{"column": "customer_id", "referencedTable": "customers", "referencedColumn": "id"}],
                "sorting": {"enabled": true, "column": "created_at", "direction": "desc"},
                "pagination": {"enabled": true, "pageSize": 25},
                "filters": {"status": ["paid", "shipped"]}, "searchColumns": ["status"] } },
        "stylesData": style(json!({"width": "100%", "fontSize": 14, "marginTop": "24px"}), json!({"fontSize": 12}))
    })
}

/// A section: a heading, a row of three columns holding a card each, and a bound table.
fn section(page: usize, s: usize, ds: &str) -> Value {
    let columns: Vec<Value> = (0..3)
        .map(|c| {
            json!({ "id": format!("s{s}-c{c}"), "type": "Column", "props": {"span": 4},
                "stylesData": style(json!({"display": "flex", "flexDirection": "column", "gap": "16px"}),
                    json!({"width": "100%"})),
                "children": [card(page, &format!("s{s}-c{c}-card"))] })
        })
        .collect();
    json!({
        "id": format!("s{s}"), "type": "Section", "props": {"as": "section"},
        "stylesData": style(json!({"paddingTop": 64, "paddingBottom": 64, "backgroundColor": if s.is_multiple_of(2) { "#f9fafb" } else { "#ffffff" }}),
            json!({"paddingTop": 32, "paddingBottom": 32})),
        "children": [
            leaf(format!("s{s}-title"), "Heading", json!({"text": format!("Section {s} of page {page}"), "level": 2}),
                json!({"fontSize": 36, "textAlign": "center"}), json!({"fontSize": 28})),
            { "id": format!("s{s}-row"), "type": "Row", "props": {"gap": 24},
              "stylesData": style(json!({"display": "grid", "gridTemplateColumns": "repeat(3, 1fr)", "gap": "24px"}),
                  json!({"gridTemplateColumns": "1fr"})),
              "children": columns },
            data_table(page, format!("s{s}-table"), ds),
        ]
    })
}

/// The PUT/POST body of page `n`, grown section by section to the size closest to `target`.
pub fn page_body(n: usize, ds: &str, target: usize) -> Value {
    let mut content = Vec::new();
    let mut best: Option<(usize, Value)> = None;
    for s in 0..64 {
        content.push(section(n, s, ds));
        let body = json!({
            "slug": if n == 0 { "home".to_string() } else { format!("p-{n:05}") },
            "name": format!("Page {n}"), "title": format!("Page {n} | Bench"),
            "description": format!("Benchmark page number {n}"), "is_homepage": n == 0,
            "seo_data": {"title": format!("Page {n}"), "description": "A benchmark page", "keywords": ["bench", "edgepub"]},
            "layout_data": {"content": content, "root": {"props": {"title": format!("Page {n}")}}},
        });
        let size = body.to_string().len();
        let closer = best
            .as_ref()
            .is_none_or(|(d, _)| size.abs_diff(target) < *d);
        if !closer {
            break;
        }
        best = Some((size.abs_diff(target), body));
        if size >= target {
            break;
        }
    }
    best.map(|(_, b)| b).unwrap_or_default()
}
