//! The compiler's output frozen on a corpus: generated component trees (the property tests'
//! generator, run with a fixed seed) in projects with and without tenants, app variables,
//! SEO data, titles and every datasource kind. Each project's digest covers every page's
//! published bytes (hash included) and every diagnostic. A change here means published
//! pages change for the same drafts: bump `compile::REVISION` and refreeze.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};

use super::props::tree;
use super::{draft, project};
use crate::compile::json::sha256_hex;
use crate::compile::{
    canonical_json, compile_bytes, CompileOptions, CompiledPage, CssCache, ProjectContext,
    ProjectInput,
};

/// Pages per project and projects in the corpus.
const PAGES: usize = 8;
pub(super) const PROJECTS: usize = 24;

pub(super) fn corpus() -> Vec<ProjectInput> {
    let mut runner = TestRunner::deterministic();
    let strategy = tree();
    (0..PROJECTS)
        .map(|p| {
            let pages = (0..PAGES)
                .map(|i| {
                    let layout = strategy
                        .new_tree(&mut runner)
                        .map(|t| t.current())
                        .unwrap_or_else(|_| json!({ "content": [] }));
                    let mut page = draft(&format!("p{p}-{i}"), &format!("s-{i}"), layout);
                    page.is_homepage = i == 0;
                    page.is_public = i % 5 != 4;
                    if (p + i) % 3 == 0 {
                        page.title = Some(format!("Title \"{i}\" ✓"));
                        page.description = Some("Ünïcode <b>&</b>".to_owned());
                        page.seo_data =
                            Some(json!({ "title": "T", "keywords": ["a", null], "x": null }));
                    }
                    page
                })
                .collect();
            let mut input = project(pages);
            if p % 2 == 1 {
                let mut vars = Map::new();
                vars.insert("BRAND".to_owned(), json!("Acme"));
                vars.insert("EMPTY".to_owned(), Value::Null);
                input.context = ProjectContext {
                    tenant_slug: format!("tenant-{p}"),
                    app_variables: Some(vars),
                };
            }
            input
        })
        .collect()
}

/// Every page's bytes (as `to_value`, the reference serialisation, gives them) and every
/// diagnostic of one compile, as one SHA-256.
pub(super) fn digest(pages: &[String], diagnostics: &[crate::compile::Diagnostic]) -> String {
    let mut all = String::new();
    for body in pages {
        all.push_str(body);
        all.push('\n');
    }
    all.push_str(&serde_json::to_string(diagnostics).unwrap_or_default());
    sha256_hex(all.as_bytes())
}

/// Digests of the corpus as the compiler before the one-pass rewrite (edgepub e1903b7)
/// published it.
const FROZEN: [&str; PROJECTS] = [
    "ec74544d002b3ba60d85ad34eb58ba8bf4b50b1070077ae4e170dd17e49e8333",
    "a6226ae8c86ba983c836b25097bdc1b93accc5affa37e9ba63206d73804b188b",
    "aa054ba5758f6bd100fda64f6a963cdf43af847e8764c462deffaa5ffe90f18a",
    "e1dd1d19c020fa5f8ed7a6ecde2cb6896b82aa61e50187e686b07bd1be4017b9",
    "7f6cc37eb204272099d23e7ddd718ef6c50938771e92b06ebf5e2897f0403173",
    "ee92bc82dccc52f472aabf34d6d08bf05927d24c070e1826c304b11209ab2e15",
    "0d6ed1de42ed0a04ec7800147d9d292824702f76ce8d351496029bb1536666a6",
    "66c19d9027a61b4b1af0b8c4839f56af8cb1d107ce1b4d03138fb83dc6e42b6a",
    "75ead7649b2143dbb939d71ff34e6b5e08ee49f0c20d0e662e77ba771a83d4f8",
    "426493690afe0b7ee31d454e066d6d1f8e579bafe1c79aad72596267af8996fe",
    "0710ea5f9ef8ef3d3e55a42629f84970a1733e60f52c457ae8ba60a60c36f6d9",
    "3879648b00b7684faa45c2f524e3be674ecdd528fd99a0ff63f7ef191416c6b4",
    "d47aa2eea2f21d50e151c73747ec8aea6f67110bdb64280200e5c9ebfc973884",
    "c8d397f5d3a7029a42d0b0e76f6ff37c169861af883152a8eaf173b06cdd8ef6",
    "2ac235a9f75e3a5e9befa87ddc20d964a330d9842139ee5215a8c6cbb9c14ba7",
    "861a36ee3aca1834d37cf3f81af04051ddd2ae026d32ec1cd12ac46da6ea237c",
    "5d9605ae4242e03af5a104da520fb26c81e29f880aa14ac8208adcb1a111d3e9",
    "694c2d7bf56df6fdb7872b9e5527fb378efac1d223037f3583c0a61a5f9ea8db",
    "12eaddd6d58d7d27b7087b1f0acae34d49c6ae392fc52fdd47337070de31479f",
    "4f7c2f3e702aee96a3bf924320c60cb11c388ff4ae7d845f1c57d8247cca1272",
    "f4ba2cc8df11db77af658f36f0929742391993d3c0fb87f6cdaa897bca00ed01",
    "0403e3c3800876776348143f8c926c3412dcf4b6066e2b27f3a81c4884ef8f43",
    "d4b16805ed86ea98bd63c0ba0951822f2e9d20948094fbe8f0fdabaa73d3d837",
    "4062e5b683743dd79d1e2831528b15e66777e6fa5964fda7d3f947168c45f8b1",
];

#[test]
fn the_reference_serialisation_is_frozen_on_the_corpus() {
    for (i, input) in corpus().iter().enumerate() {
        let out = super::compile(input);
        let bodies: Vec<String> = out.pages.iter().map(|p| p.to_value().to_string()).collect();
        assert_eq!(digest(&bodies, &out.diagnostics), FROZEN[i], "project {i}");
    }
}

#[test]
fn compiling_into_bytes_publishes_the_frozen_corpus_on_any_number_of_threads() {
    for (i, input) in corpus().into_iter().enumerate() {
        let threads = 1 + i % 3;
        let out = compile_bytes(input, &CompileOptions::default(), &CssCache::new(), threads);
        let bodies: Vec<String> = out
            .pages
            .iter()
            .map(|p| String::from_utf8(p.bytes.body.clone()).expect("UTF-8"))
            .collect();
        assert_eq!(digest(&bodies, &out.diagnostics), FROZEN[i], "project {i}");
    }
}

/// The reference: the canonical JSON (keys sorted explicitly) of everything but the three
/// unhashed members.
fn reference_hash(page: &CompiledPage) -> String {
    let mut value = page.to_value();
    if let Some(m) = value.as_object_mut() {
        for key in ["version", "publishedAt", "contentHash"] {
            m.remove(key);
        }
    }
    sha256_hex(canonical_json(&value).as_bytes())
}

#[test]
fn page_bytes_and_hash_match_the_reference_stamped_or_not() {
    for input in corpus() {
        for mut page in super::compile(&input).pages {
            let bytes = page.to_bytes();
            assert_eq!(bytes.hash, reference_hash(&page));
            assert_eq!(Some(&bytes.hash), page.content_hash.as_ref());
            assert_eq!(bytes.body, page.to_value().to_string().into_bytes());
            page.stamp(7, "2026-11-30T10:00:00.000Z")
                .expect("valid stamp");
            let stamped = page.to_bytes();
            assert_eq!(stamped.hash, bytes.hash, "stamps are not hashed");
            assert_eq!(stamped.body, page.to_value().to_string().into_bytes());
        }
    }
}

/// The recorded `layoutData` span is exactly its value in the body, and slicing a page
/// around it gives the members a full scan gives.
#[test]
fn the_layout_span_is_where_the_layout_is() {
    for input in corpus() {
        for mut page in super::compile(&input).pages {
            for stamped in [false, true] {
                if stamped {
                    page.stamp(3, "2026-11-30T10:00:00.000Z")
                        .expect("valid stamp");
                }
                let bytes = page.to_bytes();
                let body = std::str::from_utf8(&bytes.body).expect("UTF-8");
                let (start, end) = bytes.layout;
                let layout = serde_json::to_string(&page.layout_data).expect("serialises");
                assert_eq!(&body[start..end], layout);
                let skipped = crate::pagebytes::members::members_skipping(body, Some(bytes.layout));
                assert_eq!(skipped, crate::pagebytes::members::members(body));
                assert!(skipped.is_some());
            }
        }
    }
}
