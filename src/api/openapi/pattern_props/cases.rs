//! The published patterns and the strings worth trying on each beyond the generated ones.

use super::*;

const TEXT: &[&str] = &[
    "",
    " ",
    "a",
    " a ",
    "\u{a0}a\u{3000}",
    "\u{85}",
    "\u{180e}",
    "\u{200b}",
    "\u{feff}x",
    "\u{1c}",
    "a\0",
    "\0",
    "x\u{2028}",
    "é",
    "\t\n\u{b}\u{c}\r",
];
const SLUGS: &[&str] = &[
    "home",
    " home",
    "home ",
    "api",
    "api2",
    "_next",
    "__homepage__",
    "static",
    "assets",
    "favicon.ico",
    "robots.txt",
    "sitemap.xml",
    "llms.txt",
    ".",
    "..",
    ".x",
    "-",
    "_",
    "a/b",
    "Home",
    "a.b",
    "_default",
    "-x",
    "x-",
    "é",
    "İ",
    "\u{212a}",
];
const URLS: &[&str] = &[
    "https://example.com",
    " http://example.com/x ",
    "http://127.0.0.1:8080",
    "http://1.2.3",
    "http://0x10",
    "http://09",
    "http://a.0x1g",
    "http://6.175.230.51*",
    "http://a..b",
    "https://ex_ample.com:65535/a?b#c",
    "https://example.com:65536",
    "HTTP://example.com",
    "http://user:pw@example.com",
    "http://[::1]:80",
    "http://ü.example",
    "http:example.com",
    "libsql://db.turso.io",
    "/favicon.ico",
    "//cdn.example.com",
    "redis://:pw@127.0.0.1:6379/0",
    "rediss://user@redis.example",
    "redis://a:1,redis://b:2",
    "redis+sentinel://h:26379/mymaster",
    "postgres://u@h/db",
    "http://a b",
    "http://a/b c",
];

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            pointer: "/components/schemas/PageInput/properties/name",
            relation: Relation::Exact,
            accepts: |v| page("name", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/PageInput/properties/slug",
            relation: Relation::Exact,
            accepts: |v| page("slug", v),
            crafted: SLUGS,
        },
        Case {
            pointer: "/components/schemas/PageInput/properties/title",
            relation: Relation::Exact,
            accepts: |v| page("title", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/PageInput/properties/description",
            relation: Relation::Exact,
            accepts: |v| page("description", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/name",
            relation: Relation::Exact,
            accepts: |v| project("name", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/slug",
            relation: Relation::Exact,
            accepts: |v| project("slug", v),
            crafted: SLUGS,
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/tenant_slug",
            relation: Relation::Exact,
            accepts: |v| project("tenant_slug", v),
            crafted: SLUGS,
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/description",
            relation: Relation::Exact,
            accepts: |v| project("description", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/site_name",
            relation: Relation::Exact,
            accepts: |v| project("site_name", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/site_description",
            relation: Relation::Exact,
            accepts: |v| project("site_description", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/ProjectCreate/oneOf/1/properties/name",
            relation: Relation::Exact,
            accepts: project_derived_name,
            crafted: &["Site", "!!", "İ", "\u{212a}", " 9 ", "é", "-", ""],
        },
        Case {
            pointer: "/components/schemas/ProjectInput/properties/favicon_url",
            relation: Relation::Within,
            accepts: |v| project("favicon_url", v),
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/DatasourceInput/properties/name",
            relation: Relation::Exact,
            accepts: |v| datasource("name", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/DatasourceInput/properties/type",
            relation: Relation::Exact,
            accepts: |v| datasource("type", v),
            crafted: &["postgres", "Postgres", "redis", " neon", ""],
        },
        Case {
            pointer: "/components/schemas/DatasourceInput/properties/secret_env_var",
            relation: Relation::Exact,
            accepts: |v| datasource("secret_env_var", v),
            crafted: &[
                "DS_KEY", " DS_KEY ", "_", "9X", "ds_key", "", " ", "A\u{a0}",
            ],
        },
        Case {
            pointer: "/components/schemas/DatasourceInput/properties/anon_key",
            relation: Relation::Exact,
            accepts: |v| datasource("anon_key", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/DatasourceInput/properties/url",
            relation: Relation::Within,
            accepts: |v| datasource("url", v),
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/TokenRequest/properties/name",
            relation: Relation::Exact,
            accepts: |v| {
                let mut p = Problems::default();
                p.text("/name", v, 100);
                !v.contains('\0') && p.0.is_empty()
            },
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/EndpointInput/properties/description",
            relation: Relation::Exact,
            accepts: |v| endpoint("description", v),
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/EndpointInput/properties/url",
            relation: Relation::Within,
            accepts: |v| endpoint("url", v),
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/TargetInput/oneOf/0/properties/name",
            relation: Relation::Exact,
            accepts: |v| {
                let base = json!({"kind": "local", "path": "x/pages.db"});
                target(base, "name", v, Purpose::Save)
            },
            crafted: SLUGS,
        },
        Case {
            pointer: "/components/schemas/TargetTest/oneOf/0/properties/path",
            relation: Relation::Exact,
            accepts: |v| {
                let base = json!({"kind": "local", "name": "eu"});
                target(base, "path", v, Purpose::Test)
            },
            crafted: TEXT,
        },
        Case {
            pointer: "/components/schemas/TargetInput/oneOf/1/properties/url",
            relation: Relation::Within,
            accepts: |v| {
                let base = json!({"kind": "turso", "name": "eu"});
                target(base, "url", v, Purpose::Save)
            },
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/TargetInput/oneOf/2/properties/url",
            relation: Relation::Within,
            accepts: |v| {
                let base = json!({"kind": "edge", "name": "eu", "token": "k"});
                target(base, "url", v, Purpose::Save)
            },
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/CacheSettingsInput/oneOf/0/properties/redis_url",
            relation: Relation::Within,
            accepts: |v| cache(json!({"redis_type": "tcp", "redis_enabled": false}), v),
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/CacheSettingsInput/oneOf/1/properties/redis_url",
            relation: Relation::Within,
            accepts: |v| cache(json!({"redis_type": "tcp", "redis_enabled": true}), v),
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/CacheSettingsInput/oneOf/2/properties/redis_url",
            relation: Relation::Within,
            accepts: |v| cache(json!({"redis_type": "upstash", "redis_enabled": false}), v),
            crafted: URLS,
        },
        Case {
            pointer: "/components/schemas/CacheSettingsInput/oneOf/3/properties/redis_url",
            relation: Relation::Within,
            accepts: |v| {
                let base =
                    json!({"redis_type": "upstash", "redis_enabled": true, "redis_token": "t"});
                cache(base, v)
            },
            crafted: URLS,
        },
        Case {
            pointer: "/paths/~1api~1projects~1{project}~1schedules/get/parameters/1/schema",
            relation: Relation::Exact,
            accepts: schedule_state,
            crafted: &["", "pending", "Pending", "ran ", "failed", "x"],
        },
    ]
}
