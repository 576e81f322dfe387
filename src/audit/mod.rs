//! The audit log: who changed what, when, from where. Handlers record through
//! `crate::api::admin::audit::record` inside the `Store::atomic` block of their change, so the change
//! and its entry commit together; background work through [`record_system`], the command line
//! through [`record_cli`]. The values (summaries, actors, entries) are in `crate::domain::audit`.

pub mod cursor;
pub mod filter;
pub mod prune;

pub use crate::domain::audit::{Actor, Entry, Summary};
use uuid::Uuid;

/// Writes an entry. Called inside the change's `Store::atomic` block: an error here undoes
/// the change.
pub async fn write(
    store: &crate::store::Store,
    entry: &Entry,
) -> Result<(), crate::store::StoreError> {
    store.insert_audit(entry).await
}

/// Records a change made from the command line (`edgepub token create`, …): no token, no
/// request; the actor is `cli`.
pub async fn record_cli(
    store: &crate::store::Store,
    action: &'static str,
    project: Option<Uuid>,
    subject: impl std::fmt::Display,
    summary: Summary,
) -> Result<(), crate::store::StoreError> {
    let entry = Entry {
        actor: Actor::System {
            name: "cli",
            on_behalf_of: None,
        },
        action,
        project_id: project,
        subject_id: Some(subject.to_string()),
        summary,
        request_id: None,
        client_addr: None,
    };
    write(store, &entry).await
}

/// Records what background work did for a schedule, on behalf of its creator.
pub async fn record_system(
    store: &crate::store::Store,
    s: &crate::domain::schedule::Schedule,
    action: &'static str,
) -> Result<(), crate::store::StoreError> {
    let entry = Entry {
        actor: Actor::System {
            name: "scheduler",
            on_behalf_of: s.created_by,
        },
        action,
        project_id: Some(s.project_id),
        subject_id: Some(s.id.to_string()),
        summary: Summary::of(&serde_json::json!({
            "job_id": s.job_id, "state": s.state, "action": s.request.action,
        })),
        request_id: None,
        client_addr: None,
    };
    write(store, &entry).await
}
