//! Request bodies that are a variant of an input or a merge patch of one: a target per kind,
//! a project named by its slug or by its name, a test of unsaved values, the merge patches of
//! PATCH. Each is the type its handler takes (a transparent wrapper of what it reads), and its
//! schema is derived from its input's by `api::openapi::bodies`, so a field is declared once,
//! on the input, and every variant and patch follows it.

use crate::api::openapi::bodies::{cache_settings, patch_of, project_create, targets};
use crate::api::openapi::rules::guard;
use crate::domain::page::PageInput;
use crate::domain::patterns::{NOT_BLANK, NO_NUL};
use crate::domain::project::ProjectInput;
use crate::domain::settings::CacheSettingsInput;
use crate::domain::target::TargetInput;
use crate::domain::webhook::EndpointInput;
use serde::Deserialize;
use serde_json::{json, Value};
use std::borrow::Cow;
use utoipa::openapi::{schema::Schema, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// The schema of a body derived from `I`'s: `I`'s own with the no-U+0000 rules applied (so a
/// variant or patch inherits them), through `make`.
fn derived<I: PartialSchema>(make: impl FnOnce(Value) -> Value) -> RefOr<Schema> {
    let mut base = serde_json::to_value(I::schema()).unwrap_or_default();
    guard(&mut base);
    serde_json::from_value(make(base)).unwrap_or_else(|e| panic!("a derived schema: {e}"))
}

/// Declares a body type: a transparent wrapper of what its handler reads, named in the
/// document as given, its schema made from `$input`'s.
macro_rules! body {
    ($(#[$doc:meta])* $name:ident($inner:ty) as $schema:literal from $input:ty, $make:expr) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                derived::<$input>($make)
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($schema)
            }
        }
    };
}

body!(
    /// Creating a project: its slug, or a name the slug can be derived from.
    ProjectCreate(ProjectInput) as "ProjectCreate" from ProjectInput,
    |p| project_create(&p)
);
body!(
    /// A JSON merge patch (RFC 7396) of a project's fields.
    ProjectPatch(Value) as "ProjectPatch" from ProjectInput,
    |p| patch_of(&p, "project")
);
body!(
    /// A JSON merge patch of a page's fields.
    PagePatch(Value) as "PagePatch" from PageInput,
    |p| patch_of(&p, "page")
);
body!(
    /// A JSON merge patch of a webhook endpoint's fields.
    EndpointPatch(Value) as "EndpointPatch" from EndpointInput,
    |p| patch_of(&p, "endpoint")
);
body!(
    /// A JSON merge patch of a target's fields. It applies to the stored kind, which the
    /// document cannot name: it lists the fields, and the kind's rules are `TargetInput`'s.
    TargetPatch(Value) as "TargetPatch" from TargetInput,
    |t| patch_of(&t, "target")
);
body!(
    /// Creating a target: one shape per kind (what each kind needs). Named `TargetInput` in
    /// the document, as clients know it.
    TargetCreate(TargetInput) as "TargetInput" from TargetInput,
    |t| targets(&t, false)
);
body!(
    /// Replacing a target: as create, but an omitted token keeps the stored one.
    TargetReplace(TargetInput) as "TargetReplace" from TargetInput,
    |t| {
        let mut replace = targets(&t, true);
        replace["description"] = json!("Body of replace (PUT): as create, but an omitted token keeps the stored one (for the same address).");
        replace
    }
);
body!(
    /// Testing unsaved target values: the fields are checked, not where a local file may live
    /// (the report says whether it opens), and an edge is tried without a key if none is given.
    TargetTest(TargetInput) as "TargetTest" from TargetInput,
    |t| {
        let mut test = targets(&t, true);
        test["oneOf"][0]["properties"]["path"] = json!({"type": "string", "pattern": NOT_BLANK});
        test["oneOf"][2]["properties"]["token"] = json!({"type": ["string", "null"], "pattern": NO_NUL,
            "description": "The edge's system key; blank or absent, the test runs without one."});
        test["description"] = json!("Unsaved target values to test.");
        test
    }
);
body!(
    /// Cache settings: one shape per kind and switch (which fields each needs). Named
    /// `CacheSettingsInput` in the document, as clients know it.
    CacheSettingsBody(CacheSettingsInput) as "CacheSettingsInput" from CacheSettingsInput,
    |c| cache_settings(&c, false)
);
body!(
    /// Unsaved cache settings to test, as the form holds them (a token may be left out).
    CacheSettingsTest(CacheSettingsInput) as "CacheSettingsTest" from CacheSettingsInput,
    |c| {
        let mut test = cache_settings(&c, true);
        test["description"] = json!("Unsaved cache settings to test, as the form holds them.");
        test
    }
);
