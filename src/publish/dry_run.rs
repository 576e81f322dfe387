//! `POST /api/projects/{project}/compile`: compile the live drafts and report, writing
//! nothing.

use super::context::{project_input, public_datasources, PublishContext};
use super::error::PublishError;
use crate::compile::{compile_page, compile_project};
use crate::domain::project::Project;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CompileReport {
    /// Compiled pages in the contract's shape (version 1, no publishedAt: nothing is published).
    #[schema(value_type = Vec<Object>)]
    pub pages: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<serde_json::Value>,
    pub errors: usize,
    pub warnings: usize,
}

/// Compiles the project's live drafts, or one of them (project-wide checks still run).
/// `None` when `page` is not a live page of the project.
pub async fn dry_run(
    ctx: &PublishContext,
    project: &Project,
    page: Option<Uuid>,
) -> Result<Option<CompileReport>, PublishError> {
    let pages = ctx.store.live_pages(project.id).await?;
    let datasources = public_datasources(&ctx.store, project.id).await?;
    let input = project_input(project, pages, datasources);
    let (options, css) = (ctx.compile, ctx.css.clone());
    let page = page.map(|p| p.to_string());
    // Compiling is CPU work; keep it off the async workers.
    let out = tokio::task::spawn_blocking(move || match page {
        Some(id) => compile_page(&input, &id, &options, &css).ok(),
        None => Some(compile_project(&input, &options, &css)),
    })
    .await
    .map_err(|e| PublishError::Compiler(e.to_string()))?;
    let Some(out) = out else {
        return Ok(None);
    };
    let diagnostics: Vec<serde_json::Value> = out
        .diagnostics
        .iter()
        .filter_map(|d| serde_json::to_value(d).ok())
        .collect();
    let errors = out.errors().count();
    Ok(Some(CompileReport {
        pages: out.pages.iter().map(|p| p.to_value()).collect(),
        warnings: diagnostics.len() - errors,
        diagnostics,
        errors,
    }))
}
