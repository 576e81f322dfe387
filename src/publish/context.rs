//! What every publish job of a process shares, and the compiler's view of a project.

use super::targets::TargetContext;
use crate::clock::SharedClock;
use crate::compile::{CompileOptions, CssCache, DraftPage, ProjectContext, ProjectInput};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Everything a worker needs, shared by all jobs of a process.
pub struct PublishContext {
    pub store: Store,
    pub clock: SharedClock,
    pub css: Arc<CssCache>,
    pub compile: CompileOptions,
    pub targets: TargetContext,
    /// This process's lease owner id.
    pub owner: String,
    pub lease: chrono::Duration,
    /// Wakes the cache worker when a release with cache operations is recorded.
    pub cache_wake: Arc<tokio::sync::Notify>,
    /// Wakes the webhook delivery worker when an event is recorded.
    pub hooks_wake: Arc<tokio::sync::Notify>,
    /// Wakes the retention worker when a release is recorded.
    pub retention_wake: Arc<tokio::sync::Notify>,
}

/// The compiler's input for a project's pages and datasources.
pub fn project_input(
    project: &crate::domain::project::Project,
    pages: Vec<crate::domain::page::Page>,
    datasources: Vec<crate::compile::Datasource>,
) -> ProjectInput {
    ProjectInput {
        pages: pages
            .into_iter()
            .map(|p| DraftPage {
                id: p.id.to_string(),
                slug: p.slug,
                name: p.name,
                title: p.title,
                description: p.description,
                layout_data: p.layout_data,
                seo_data: p.seo_data,
                is_public: p.is_public,
                is_homepage: p.is_homepage,
            })
            .collect(),
        datasources,
        context: ProjectContext {
            tenant_slug: project.tenant_slug.clone(),
            app_variables: None,
        },
    }
}

/// `2026-11-22T10:00:00.000Z`: the only form the edge's validator accepts.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The project's datasources as an edge may see them (no secrets), for the compiler.
pub async fn public_datasources(
    store: &Store,
    project_id: uuid::Uuid,
) -> Result<Vec<crate::compile::Datasource>, crate::store::StoreError> {
    Ok(store
        .list_datasources(project_id)
        .await?
        .iter()
        .map(|d| d.public())
        .collect())
}

/// One of the project's releases, with its pages; an unknown one rejects the job.
pub async fn project_release(
    store: &Store,
    project: &crate::domain::project::Project,
    release_id: uuid::Uuid,
) -> Result<crate::domain::publish::Release, super::PublishError> {
    match store.get_release(release_id).await {
        Ok(r) if r.project_id == project.id => Ok(r),
        Ok(_) | Err(crate::store::StoreError::NotFound) => Err(super::PublishError::Rejected(
            format!("release {release_id} does not exist"),
        )),
        Err(e) => Err(e.into()),
    }
}
