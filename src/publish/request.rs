//! What a publish request may name, checked before it is accepted: the pages must be live
//! pages of the project, the targets enabled targets of it. Publishes, webhooks and schedules
//! refuse the same input with the same 422 up front, instead of a job that fails later.

use crate::domain::FieldError;
use crate::store::{Store, StoreError};
use std::collections::HashSet;
use uuid::Uuid;

fn problem(path: String, code: &'static str, message: &str) -> FieldError {
    FieldError {
        path,
        code,
        message: message.into(),
    }
}

/// Problems with `pages` of a publish: each must be a live page of `project`. A page of
/// another project reads exactly like one that does not exist.
pub async fn page_problems(
    store: &Store,
    project: Uuid,
    pages: Option<&[Uuid]>,
) -> Result<Vec<FieldError>, StoreError> {
    let Some(ids) = pages else {
        return Ok(Vec::new());
    };
    if ids.is_empty() {
        let message = "name at least one page, or leave `pages` out for all";
        return Ok(vec![problem("/pages".into(), "empty", message)]);
    }
    let live: HashSet<Uuid> = store.live_page_ids(project).await?.into_iter().collect();
    Ok(ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !live.contains(id))
        .map(|(i, _)| {
            problem(
                format!("/pages/{i}"),
                "unknown_page",
                "not a live page of this project",
            )
        })
        .collect())
}

/// Problems with `targets`: each must be an enabled target of `project`.
pub async fn target_problems(
    store: &Store,
    project: Uuid,
    targets: Option<&[Uuid]>,
) -> Result<Vec<FieldError>, StoreError> {
    let Some(ids) = targets else {
        return Ok(Vec::new());
    };
    let mut problems = Vec::new();
    if ids.is_empty() {
        let message = "name at least one target, or leave `targets` out for all";
        problems.push(problem("/targets".into(), "empty", message));
    }
    let known = store.list_targets(project).await?;
    for (i, id) in ids.iter().enumerate() {
        match known.iter().find(|t| t.id == *id) {
            Some(t) if t.enabled => {}
            Some(_) => problems.push(problem(
                format!("/targets/{i}"),
                "target_disabled",
                "this target is disabled",
            )),
            None => problems.push(problem(
                format!("/targets/{i}"),
                "unknown_target",
                "not a target of this project",
            )),
        }
    }
    Ok(problems)
}

/// Both checks of a publish request, pages first.
pub async fn publish_problems(
    store: &Store,
    project: Uuid,
    pages: Option<&[Uuid]>,
    targets: Option<&[Uuid]>,
) -> Result<Vec<FieldError>, StoreError> {
    let mut problems = page_problems(store, project, pages).await?;
    problems.extend(target_problems(store, project, targets).await?);
    Ok(problems)
}
