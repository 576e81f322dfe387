//! The newest release's pages of recently published projects, kept in process by release id.
//! A recorded release's page set never changes, so an entry is right exactly while its
//! release is still the project's newest, which the caller checks against the database on
//! every use (another replica's release has another id). A one-page publish in a
//! 10,000-page project then skips reading, parsing and sorting 10,000 rows.
//!
//! Entries are sorted by page id, the order a release is built and diffed in. They are
//! bounded by pages held (~300 bytes each), least recently used out first; a project larger
//! than the bound is not kept.

use crate::domain::publish::ReleasePage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Pages held across all projects: ~6 MB.
const MAX_PAGES: usize = 20_000;

#[derive(Default)]
pub struct Manifests(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    by_project: HashMap<Uuid, Entry>,
    pages: usize,
    tick: u64,
}

struct Entry {
    release: Uuid,
    pages: Arc<[ReleasePage]>,
    used: u64,
}

impl Manifests {
    /// The pages of `release`, if they are held.
    pub fn get(&self, project: Uuid, release: Uuid) -> Option<Arc<[ReleasePage]>> {
        let mut inner = self.0.lock().ok()?;
        inner.tick += 1;
        let tick = inner.tick;
        let entry = inner.by_project.get_mut(&project)?;
        if entry.release != release {
            return None;
        }
        entry.used = tick;
        Some(entry.pages.clone())
    }

    /// Holds `pages` (sorted by page id) as the pages of `release`, the project's newest.
    pub fn put(&self, project: Uuid, release: Uuid, pages: Arc<[ReleasePage]>) {
        let Ok(mut inner) = self.0.lock() else { return };
        if let Some(old) = inner.by_project.remove(&project) {
            inner.pages -= old.pages.len();
        }
        if pages.len() > MAX_PAGES {
            return;
        }
        while inner.pages + pages.len() > MAX_PAGES {
            let Some(oldest) = inner
                .by_project
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(id, _)| *id)
            else {
                break;
            };
            if let Some(e) = inner.by_project.remove(&oldest) {
                inner.pages -= e.pages.len();
            }
        }
        inner.tick += 1;
        let used = inner.tick;
        inner.pages += pages.len();
        inner.by_project.insert(
            project,
            Entry {
                release,
                pages,
                used,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(n: usize) -> Arc<[ReleasePage]> {
        (0..n)
            .map(|i| ReleasePage {
                page_id: format!("{i:05}"),
                slug: format!("p{i}"),
                version: 1,
                content_hash: "h".into(),
                published_at: "t".into(),
            })
            .collect()
    }

    #[test]
    fn an_entry_answers_only_for_its_own_release() {
        let m = Manifests::default();
        let (project, r1, r2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert!(m.get(project, r1).is_none());
        m.put(project, r1, pages(3));
        assert_eq!(m.get(project, r1).map(|p| p.len()), Some(3));
        assert!(
            m.get(project, r2).is_none(),
            "a newer release is not the held one"
        );
        m.put(project, r2, pages(2));
        assert!(m.get(project, r1).is_none(), "the older release is gone");
        assert_eq!(m.get(project, r2).map(|p| p.len()), Some(2));
    }

    #[test]
    fn pages_held_stay_bounded_least_recently_used_out_first() {
        let m = Manifests::default();
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let r = Uuid::new_v4();
        m.put(a, r, pages(MAX_PAGES / 2));
        m.put(b, r, pages(MAX_PAGES / 2));
        assert!(m.get(a, r).is_some());
        m.put(c, r, pages(10));
        assert!(m.get(b, r).is_none(), "b was used least recently");
        assert!(m.get(a, r).is_some() && m.get(c, r).is_some());
        m.put(c, r, pages(MAX_PAGES + 1));
        assert!(
            m.get(c, r).is_none(),
            "a project over the bound is not kept"
        );
        assert_eq!(m.0.lock().unwrap().pages, MAX_PAGES / 2);
    }
}
