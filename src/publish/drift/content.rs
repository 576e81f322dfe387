//! Content drift: whether the rows a target holds are the release's pages, column by column.
//! A row's version and content-hash columns only say which page it claims to be; a hand edit
//! of its title, layout, SEO or CSS keeps them. So each row is compared with the row the
//! release's compiled bytes make (the same `pages_db::page_row` that writes it), a chunk of
//! pages at a time: a 10,000-page check holds one chunk of rows and compiled pages at once.

use crate::domain::publish::ReleasePage;
use crate::publish::plan::Held;
use crate::publish::targets::{pages_db, Bodies, PublishTarget, TargetError};
use std::collections::HashMap;

/// Pages compared per round trip (each row and compiled page is ~20–60 KB).
const CHUNK: usize = 50;

/// A page whose row differs from the release, with the columns that differ.
pub type Changed = (String, Vec<&'static str>);

/// Whether the target says it holds this release page (same version and content hash): only
/// such rows are worth reading, the others are already missing or changed.
pub fn claims(held: &HashMap<String, Held>, p: &ReleasePage) -> bool {
    held.get(&p.page_id).is_some_and(|h| {
        h.version == p.version && h.content_hash.as_deref() == Some(p.content_hash.as_str())
    })
}

/// The pages among `pages` whose rows on the target differ from the release; `None` when the
/// target cannot be read back. A row gone since `held` was read is left to the next check.
pub async fn changed_rows(
    target: &dyn PublishTarget,
    tenant: &str,
    pages: &[&ReleasePage],
    bodies: &dyn Bodies,
) -> Result<Option<Vec<Changed>>, TargetError> {
    let mut changed = Vec::new();
    for refs in pages.chunks(CHUNK) {
        let chunk: Vec<ReleasePage> = refs.iter().map(|p| (*p).clone()).collect();
        let ids: Vec<&str> = chunk.iter().map(|p| p.page_id.as_str()).collect();
        let Some(mut found) = target.rows(tenant, &ids).await? else {
            return Ok(None);
        };
        for (page, body) in chunk.iter().zip(bodies.load(&chunk).await?) {
            let Some(row) = found.remove(&page.page_id) else {
                continue;
            };
            let expected = pages_db::page_row(tenant, &body)?;
            let columns = pages_db::differing_columns(&expected, &row);
            if !columns.is_empty() {
                changed.push((page.page_id.clone(), columns));
            }
        }
        // Comparing a chunk is CPU work between awaits: let other tasks (requests, jobs) in.
        tokio::task::yield_now().await;
    }
    Ok(Some(changed))
}

/// Marks the pages whose rows differ from the release as not held, so a plan rewrites them
/// (a drift repair: the version and hash columns alone would say they are current).
pub async fn forget_changed(
    target: &dyn PublishTarget,
    tenant: &str,
    release: &[ReleasePage],
    bodies: &dyn Bodies,
    held: &mut HashMap<String, Held>,
) -> Result<(), TargetError> {
    let same: Vec<&ReleasePage> = release.iter().filter(|p| claims(held, p)).collect();
    let changed = changed_rows(target, tenant, &same, bodies).await?;
    for (id, _) in changed.into_iter().flatten() {
        if let Some(h) = held.get_mut(&id) {
            h.content_hash = None;
        }
    }
    Ok(())
}
