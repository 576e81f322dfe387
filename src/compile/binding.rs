//! Binding normalisation: one spelling of the datasource id, the owning component's id, and a
//! freshly computed `dataRequest`. Every other field passes through untouched.
//!
//! A `dataRequest` already present in a draft is dropped and recomputed: it is derived data,
//! and a draft must not be able to dictate what the edge fetches.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::data_request::build_data_request;
use super::diagnostics::{push_pointer, Code, Sink};
use super::json::strip_nulls;
use super::model::Datasource;

/// Spellings of the datasource id a draft may use, in order of precedence.
const DATASOURCE_KEYS: [&str; 3] = ["datasourceId", "dataSourceId", "datasource_id"];

/// Datasources by id, first one winning when an id repeats.
#[derive(Debug, Default)]
pub struct DatasourceIndex<'a> {
    by_id: HashMap<&'a str, &'a Datasource>,
}

impl<'a> DatasourceIndex<'a> {
    pub fn new(datasources: &'a [Datasource]) -> Self {
        let mut by_id = HashMap::new();
        for ds in datasources {
            by_id.entry(ds.id.as_str()).or_insert(ds);
        }
        Self { by_id }
    }

    pub fn get(&self, id: &str) -> Option<&'a Datasource> {
        self.by_id.get(id).copied()
    }
}

/// What walking bindings needs besides the binding itself.
pub struct BindingContext<'a, 'b> {
    pub datasources: &'b DatasourceIndex<'a>,
    pub sink: &'b mut Sink,
    /// Ids of the datasources the page's bindings use.
    pub used: &'b mut BTreeSet<String>,
}

fn take_datasource_id(binding: &mut Map<String, Value>) -> Option<(String, &'static str)> {
    let mut found = None;
    for key in DATASOURCE_KEYS {
        if let Some(value) = binding.remove(key) {
            let id = match value {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
            if let (None, Some(id)) = (&found, id.filter(|s| !s.trim().is_empty())) {
                found = Some((id, key));
            }
        }
    }
    found
}

/// Normalises one binding found at `pointer` on the component `component_id`.
pub fn normalise_binding(
    binding: Map<String, Value>,
    component_id: Option<&str>,
    pointer: &str,
    cx: &mut BindingContext<'_, '_>,
) -> Map<String, Value> {
    let mut binding = binding;
    binding.remove("dataRequest");
    let datasource = take_datasource_id(&mut binding);
    if let Some(id) = component_id {
        binding.insert("componentId".to_owned(), Value::String(id.to_owned()));
    }
    let Some((ds_id, key)) = datasource else {
        cx.sink.report(
            pointer,
            Code::MissingDatasourceId,
            "binding names no datasource, so it fetches nothing",
        );
        return binding;
    };
    binding.insert("datasourceId".to_owned(), Value::String(ds_id.clone()));
    let Some(ds) = cx.datasources.get(&ds_id) else {
        cx.sink.report(
            &push_pointer(pointer, key),
            Code::UnknownDatasource,
            format!("binding uses datasource {ds_id:?}, which the project does not have"),
        );
        return binding;
    };
    cx.used.insert(ds.id.clone());
    let mut issues = Vec::new();
    let request = build_data_request(&binding, ds, &mut issues);
    for (relative, code, message) in issues {
        let at = if relative == "/datasourceId" {
            push_pointer(pointer, key)
        } else {
            format!("{pointer}{relative}")
        };
        cx.sink.report(&at, code, message);
    }
    if let Some(request) = request {
        binding.insert("dataRequest".to_owned(), strip_nulls(request));
    }
    binding
}
