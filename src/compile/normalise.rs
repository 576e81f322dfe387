//! Layout normalisation: turns a draft `layout_data` into the published `{content, root?}`.
//!
//! Each component, recursively through `children`, gets: `props.binding` moved to `binding`
//! (the props copy wins when both exist, as it is the one the builder edits), a normalised
//! binding ([`super::binding`]), merged structured `styles` = `stylesData` ([`super::styles`]),
//! a full `visibility` (`{mobile, tablet, desktop}`, missing keys true), and no nulls. Other
//! members pass through. The output is a fixed point: normalising it again changes nothing.
//!
//! The walk also reports problems (missing or duplicate ids, unknown types, bad shapes) with
//! pointers into the draft, so a null skipped in an array never shifts a reported index.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::binding::{normalise_binding, BindingContext, DatasourceIndex};
use super::diagnostics::{push_index, push_pointer, Code, Sink};
use super::json::{strip_map, strip_nulls};
use super::model::{is_known_type, Datasource};
use super::styles::merge_styles;

/// Component members the normaliser rebuilds; everything else passes through.
const HANDLED: [&str; 9] = [
    "id",
    "type",
    "props",
    "styles",
    "stylesData",
    "visibility",
    "visibilityCondition",
    "children",
    "binding",
];

const VISIBILITY_KEYS: [&str; 3] = ["mobile", "tablet", "desktop"];

/// A normalised layout with what the walk learned on the way.
#[derive(Debug)]
pub struct NormalisedLayout {
    pub layout: Value,
    /// Ids of the datasources the layout's bindings use, sorted.
    pub used_datasources: BTreeSet<String>,
}

struct Walker<'a, 'b> {
    bindings: BindingContext<'a, 'b>,
    /// Component id → pointer of its first occurrence.
    seen: HashMap<String, String>,
}

/// Normalises `layout` (a whole `layout_data`), discarding diagnostics.
pub fn normalise_layout(layout: &Value, datasources: &[Datasource]) -> Value {
    let index = DatasourceIndex::new(datasources);
    let mut sink = Sink::default();
    normalise_layout_at(layout.clone(), "/layout_data", &index, &mut sink).layout
}

/// Normalises `layout`, reporting into `sink` with pointers under `base`. Takes the draft by
/// value: members move into the output instead of being copied.
pub fn normalise_layout_at(
    layout: Value,
    base: &str,
    datasources: &DatasourceIndex<'_>,
    sink: &mut Sink,
) -> NormalisedLayout {
    let mut used = BTreeSet::new();
    let mut out = Map::new();
    let content_ptr = push_pointer(base, "content");
    let (content, root) = match layout {
        Value::Object(mut m) => {
            let root = m.remove("root");
            match m.remove("content") {
                Some(Value::Array(items)) => (Some(items), root),
                _ => {
                    sink.report(
                        &content_ptr,
                        Code::InvalidLayout,
                        "layout_data has no `content` array",
                    );
                    (None, root)
                }
            }
        }
        _ => {
            sink.report(
                base,
                Code::InvalidLayout,
                "layout_data is not a JSON object",
            );
            (None, None)
        }
    };
    let mut walker = Walker {
        bindings: BindingContext {
            datasources,
            sink,
            used: &mut used,
        },
        seen: HashMap::new(),
    };
    let components = content.map_or_else(Vec::new, |items| walker.list(items, &content_ptr));
    out.insert("content".to_owned(), Value::Array(components));
    match root {
        None | Some(Value::Null) => {}
        Some(Value::Object(root)) => {
            out.insert("root".to_owned(), Value::Object(strip_map(root)));
        }
        Some(_) => walker.bindings.sink.report(
            &push_pointer(base, "root"),
            Code::InvalidRoot,
            "layout_data.root is not an object; left out",
        ),
    }
    NormalisedLayout {
        layout: Value::Object(out),
        used_datasources: used,
    }
}

/// The member `key`, taken out of `raw` unless it is null.
fn take(raw: &mut Map<String, Value>, key: &str) -> Option<Value> {
    raw.remove(key).filter(|v| !v.is_null())
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn visibility(value: Option<&Value>) -> Value {
    let given = value.and_then(Value::as_object);
    let mut out = Map::new();
    for key in VISIBILITY_KEYS {
        let shown = given
            .and_then(|m| m.get(key))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        out.insert(key.to_owned(), Value::Bool(shown));
    }
    Value::Object(out)
}

impl Walker<'_, '_> {
    fn list(&mut self, items: Vec<Value>, pointer: &str) -> Vec<Value> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::Null => {}
                Value::Object(component) => {
                    out.push(self.component(component, &push_index(pointer, i)));
                }
                _ => self.bindings.sink.report(
                    &push_index(pointer, i),
                    Code::ComponentNotObject,
                    "component is not a JSON object; left out",
                ),
            }
        }
        out
    }

    fn component(&mut self, mut raw: Map<String, Value>, pointer: &str) -> Value {
        let mut out = Map::new();
        let id = self.check_id(&raw, pointer);
        self.check_type(&raw, pointer);
        for key in ["id", "type"] {
            if let Some(v) = take(&mut raw, key) {
                out.insert(key.to_owned(), strip_nulls(v));
            }
        }

        let mut props = match raw.remove("props") {
            Some(Value::Object(p)) => p,
            _ => Map::new(),
        };
        let outer = take(&mut raw, "binding");
        let binding = match take(&mut props, "binding") {
            Some(b) => Some((b, format!("{pointer}/props/binding"))),
            None => outer.map(|b| (b, push_pointer(pointer, "binding"))),
        };
        out.insert("props".to_owned(), Value::Object(strip_map(props)));
        match binding {
            Some((Value::Object(b), at)) => {
                let b = strip_map(b);
                let normalised = normalise_binding(b, id.as_deref(), &at, &mut self.bindings);
                out.insert("binding".to_owned(), Value::Object(normalised));
            }
            Some((_, at)) => self.bindings.sink.report(
                &at,
                Code::BindingNotObject,
                "binding is not a JSON object; left out",
            ),
            None => {}
        }

        let styles = merge_styles(
            raw.remove("styles").map(strip_nulls),
            raw.remove("stylesData").map(strip_nulls),
        );
        out.insert("styles".to_owned(), styles.clone());
        out.insert("stylesData".to_owned(), styles);
        out.insert("visibility".to_owned(), visibility(raw.get("visibility")));
        if let Some(Value::String(cond)) = raw.remove("visibilityCondition") {
            out.insert("visibilityCondition".to_owned(), Value::String(cond));
        }

        match raw.remove("children") {
            None | Some(Value::Null) => {}
            Some(Value::Array(children)) => {
                let children = self.list(children, &push_pointer(pointer, "children"));
                out.insert("children".to_owned(), Value::Array(children));
            }
            Some(_) => self.bindings.sink.report(
                &push_pointer(pointer, "children"),
                Code::ChildrenNotArray,
                "children is not an array; left out",
            ),
        }

        for (key, value) in raw {
            if !HANDLED.contains(&key.as_str()) && !value.is_null() {
                out.insert(key, strip_nulls(value));
            }
        }
        Value::Object(out)
    }

    fn check_id(&mut self, raw: &Map<String, Value>, pointer: &str) -> Option<String> {
        let at = push_pointer(pointer, "id");
        let Some(id) = non_empty_str(raw.get("id")) else {
            self.bindings.sink.report(
                &at,
                Code::MissingComponentId,
                "component has no id (a non-empty string)",
            );
            return None;
        };
        match self.seen.get(id) {
            Some(first) => {
                let message = format!("component id {id:?} is already used at {first}");
                self.bindings
                    .sink
                    .report(&at, Code::DuplicateComponentId, message);
            }
            None => {
                self.seen.insert(id.to_owned(), at);
            }
        }
        Some(id.to_owned())
    }

    fn check_type(&mut self, raw: &Map<String, Value>, pointer: &str) {
        let at = push_pointer(pointer, "type");
        match non_empty_str(raw.get("type")) {
            None => self.bindings.sink.report(
                &at,
                Code::MissingComponentType,
                "component has no type (a non-empty string)",
            ),
            Some(ty) if !is_known_type(ty) => self.bindings.sink.report(
                &at,
                Code::UnknownComponentType,
                format!("component type {ty:?} is not one the edge knows; it may not render"),
            ),
            Some(_) => {}
        }
    }
}
