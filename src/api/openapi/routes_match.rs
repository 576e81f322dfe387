//! The document and the route table list the same paths with the same methods: the document
//! is built from the table, so this catches a resource registered twice or a modifier that
//! adds or drops an operation.

use super::ApiDoc;
use crate::api::routes::table;
use std::collections::BTreeMap;
use utoipa::OpenApi;

/// Every path of the document with its methods equals the table's documented entries, and
/// the other way round.
#[test]
fn the_document_lists_exactly_the_registered_routes() {
    let doc = ApiDoc::openapi();
    let documented: BTreeMap<String, Vec<&str>> = doc
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut m: Vec<&str> = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
                ("HEAD", item.head.is_some()),
                ("OPTIONS", item.options.is_some()),
                ("TRACE", item.trace.is_some()),
            ]
            .into_iter()
            .filter_map(|(name, present)| present.then_some(name))
            .collect();
            m.sort_unstable();
            (path.clone(), m)
        })
        .collect();
    let mut registered: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for e in table().iter().filter(|e| !e.documented.is_empty()) {
        let methods = registered.entry(e.path.clone()).or_default();
        assert!(methods.is_empty(), "{} is registered twice", e.path);
        methods.extend(e.methods.iter().copied());
        methods.sort_unstable();
    }
    assert_eq!(documented, registered);
}
