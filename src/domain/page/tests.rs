use super::*;

#[test]
fn every_problem_is_reported() {
    let input: PageInput = serde_json::from_value(json!({
        "slug": "API/x", "name": " ",
        "layout_data": {"content": [1], "root": 3},
        "seo_data": {"keywords": "a,b", "title": 5}
    }))
    .unwrap();
    let errs = input.validate(&LayoutLimits::default()).unwrap_err();
    let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/slug",
            "/name",
            "/layout_data/content/0",
            "/layout_data/root",
            "/seo_data/title",
            "/seo_data/keywords"
        ]
    );
}

#[test]
fn defaults() {
    let input: PageInput = serde_json::from_value(json!({"slug": "home", "name": "Home"})).unwrap();
    let f = input.validate(&LayoutLimits::default()).unwrap();
    assert!(f.is_public && !f.is_homepage);
    assert_eq!(f.layout_data.get(), r#"{"content":[],"root":{}}"#);
}

/// A save answers with the same JSON a read of the page gives.
#[test]
fn saved_page_serialises_like_page() {
    let input: PageInput = serde_json::from_value(json!({
        "slug": "home", "name": "Home", "title": "T",
        "layout_data": {"root": {"props": {"x": 1.5}}, "content": [{"type": "Text", "props": {"b": [1, "2"]}}]},
        "seo_data": {"title": "S"}
    }))
    .unwrap();
    let f = input.validate(&LayoutLimits::default()).unwrap();
    let now = Utc::now();
    let (id, project_id) = (Uuid::new_v4(), Uuid::new_v4());
    let page = Page {
        id,
        project_id,
        slug: f.slug.clone(),
        name: f.name.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        layout_data: serde_json::from_str(f.layout_data.get()).unwrap(),
        seo_data: f.seo_data.clone(),
        is_public: f.is_public,
        is_homepage: f.is_homepage,
        version: 7,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let saved = SavedPage::new(f, id, project_id, 7, now, now);
    assert_eq!(
        serde_json::to_string(&saved).unwrap(),
        serde_json::to_string(&page).unwrap()
    );
}
