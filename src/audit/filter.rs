//! Reading the log: a listing's filters, checked, and its pages. An action is one
//! (`project.update`) or a family (`project.*`); a page ends with the cursor of the next.

use crate::store::audit::{AuditEntry, AuditFilter};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a listing asks for, as the caller gave it (the project already resolved and allowed).
#[derive(Debug, Default)]
pub struct Wanted<'a> {
    pub project_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: Option<&'a str>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<&'a str>,
}

/// A filter that cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("an action such as `project.update`, or a family such as `project.*`")]
    Action,
    #[error("not a cursor this API returned")]
    Cursor,
}

/// The store's filter for `w`. An empty action or cursor is no filter, as if left out.
pub fn filter(w: &Wanted<'_>) -> Result<AuditFilter, FilterError> {
    let mut f = AuditFilter {
        project_id: w.project_id,
        actor_id: w.actor_id,
        from: w.from,
        to: w.to,
        ..AuditFilter::default()
    };
    if let Some(a) = w.action.filter(|a| !a.is_empty()) {
        let ok = a.len() <= 100
            && a.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.' || b == b'*');
        match a.strip_suffix(".*") {
            Some(prefix) if ok && !prefix.contains('*') => {
                f.action_prefix = Some(format!("{prefix}."))
            }
            None if ok && !a.contains('*') => f.action = Some(a.to_string()),
            _ => return Err(FilterError::Action),
        }
    }
    if let Some(c) = w.cursor.filter(|c| !c.is_empty()) {
        f.after = Some(super::cursor::decode(c).ok_or(FilterError::Cursor)?);
    }
    Ok(f)
}

/// One page, newest first: at most `limit` entries (1–500, default 50) and, unless it is the
/// last page, the cursor of the next.
pub async fn page(
    store: &Store,
    f: &AuditFilter,
    limit: Option<i64>,
) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let mut items = store.list_audit(f, limit + 1).await?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more
        .then(|| items.last().map(|e| super::cursor::encode(e.at, e.id)))
        .flatten();
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(a: &str) -> Result<AuditFilter, FilterError> {
        filter(&Wanted {
            action: Some(a),
            ..Wanted::default()
        })
    }

    #[test]
    fn an_action_is_one_or_a_family() {
        let one = action("project.update").ok();
        assert_eq!(
            one.as_ref().and_then(|f| f.action.as_deref()),
            Some("project.update")
        );
        let family = action("project.*").ok();
        assert_eq!(
            family.as_ref().and_then(|f| f.action_prefix.as_deref()),
            Some("project.")
        );
        let none = action("").ok();
        assert!(none.is_some_and(|f| f.action.is_none() && f.action_prefix.is_none()));
        for bad in [
            "Project.update",
            "project.*.x",
            "*",
            "pro*ject.update",
            "a b",
        ] {
            assert_eq!(action(bad).err(), Some(FilterError::Action), "{bad}");
        }
        assert_eq!(action(&"a".repeat(101)).err(), Some(FilterError::Action));
    }

    #[test]
    fn a_cursor_is_one_this_api_wrote() {
        let c = super::super::cursor::encode(Utc::now(), Uuid::new_v4());
        let w = |c| Wanted {
            cursor: Some(c),
            ..Wanted::default()
        };
        assert!(filter(&w(&c)).is_ok_and(|f| f.after.is_some()));
        assert_eq!(filter(&w("garbage")).err(), Some(FilterError::Cursor));
        assert!(filter(&w("")).is_ok_and(|f| f.after.is_none()));
    }
}
