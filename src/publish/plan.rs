//! Planning, written once for every target: which version each page gets, and what a target
//! must write and delete to hold exactly the new release.

use crate::domain::publish::ReleasePage;
use std::collections::HashMap;

/// What a target holds for one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub content_hash: Option<String>,
    pub version: i64,
    /// The slug it is served at, when the target can say (a push edge deletes by slug).
    pub slug: Option<String>,
}

/// A page a target must remove.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Removal {
    pub page_id: String,
    pub slug: Option<String>,
}

/// A page as the release wants it, before it is stamped.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub page_id: String,
    pub slug: String,
    pub content_hash: String,
}

/// Versions for a new release. A page whose content is unchanged keeps its version and
/// publish time; a changed (or forced) page gets the next version and `now`.
/// `base` is the set the new release starts from (the current release, or nothing for a
/// full publish); `wanted` pages replace or join it; `removed` leave it. `highest` holds the
/// highest version each page ever had, so a page that comes back after an unpublish keeps
/// counting up (edges refuse versions that do not grow).
pub fn next_release(
    current: &[ReleasePage],
    highest: &HashMap<String, i64>,
    base: &[ReleasePage],
    wanted: &[Wanted],
    removed: &[String],
    force: bool,
    now: &str,
) -> Vec<ReleasePage> {
    // Sorted id lists rather than maps of the whole release: a one-page publish in a large
    // project then costs one pass over the current pages, without hashing each of them.
    let mut want: Vec<(&str, usize)> = wanted
        .iter()
        .enumerate()
        .map(|(i, w)| (w.page_id.as_str(), i))
        .collect();
    want.sort_unstable();
    let mut gone: Vec<&str> = removed.iter().map(String::as_str).collect();
    gone.sort_unstable();
    let wanted_at = |id: &str| {
        want.binary_search_by(|(w, _)| (*w).cmp(id))
            .ok()
            .map(|k| want[k].1)
    };
    let mut previous: Vec<Option<&ReleasePage>> = vec![None; wanted.len()];
    for p in current {
        if let Some(i) = wanted_at(&p.page_id) {
            previous[i] = Some(p);
        }
    }
    let mut out: Vec<ReleasePage> = base
        .iter()
        .filter(|r| {
            wanted_at(&r.page_id).is_none() && gone.binary_search(&r.page_id.as_str()).is_err()
        })
        .cloned()
        .collect();
    for (w, prev) in wanted.iter().zip(previous) {
        out.push(match prev {
            Some(p) if p.content_hash == w.content_hash && p.slug == w.slug && !force => p.clone(),
            prev => ReleasePage {
                page_id: w.page_id.clone(),
                slug: w.slug.clone(),
                version: prev
                    .map(|p| p.version)
                    .or_else(|| highest.get(&w.page_id).copied())
                    .map_or(1, |v| v + 1),
                content_hash: w.content_hash.clone(),
                published_at: now.to_string(),
            },
        });
    }
    out.sort_unstable_by(|a, b| a.page_id.cmp(&b.page_id));
    out
}

/// What a release changes against the one before: pages new or different in `next`, and
/// pages of `previous` that `next` no longer has. Only these are recorded, so a release
/// costs what changed.
pub fn release_delta(
    previous: &[ReleasePage],
    next: &[ReleasePage],
) -> (Vec<ReleasePage>, Vec<ReleasePage>) {
    let before: HashMap<&str, &ReleasePage> =
        previous.iter().map(|p| (p.page_id.as_str(), p)).collect();
    let changed = next
        .iter()
        .filter(|p| before.get(p.page_id.as_str()) != Some(p))
        .cloned()
        .collect();
    let after: std::collections::HashSet<&str> = next.iter().map(|p| p.page_id.as_str()).collect();
    let removed = previous
        .iter()
        .filter(|p| !after.contains(p.page_id.as_str()))
        .cloned()
        .collect();
    (changed, removed)
}

/// What one target must do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPlan {
    pub upserts: Vec<ReleasePage>,
    pub deletes: Vec<Removal>,
    pub unchanged: u64,
}

/// Diffs the release against what a target holds. `force` rewrites every page.
pub fn plan_target(
    release: &[ReleasePage],
    held: &HashMap<String, Held>,
    force: bool,
) -> TargetPlan {
    let mut plan = TargetPlan::default();
    for page in release {
        let same = held.get(&page.page_id).is_some_and(|h| {
            h.version == page.version
                && h.content_hash.as_deref() == Some(page.content_hash.as_str())
        });
        if same && !force {
            plan.unchanged += 1;
        } else {
            plan.upserts.push(page.clone());
        }
    }
    let wanted: std::collections::HashSet<&str> =
        release.iter().map(|r| r.page_id.as_str()).collect();
    plan.deletes = held
        .iter()
        .filter(|(id, _)| !wanted.contains(id.as_str()))
        .map(|(id, h)| Removal {
            page_id: id.clone(),
            slug: h.slug.clone(),
        })
        .collect();
    plan.deletes.sort();
    plan
}

/// The plan against a target that holds exactly `held` (a release it took whole): the same
/// plan as [`plan_target`] over those pages, looked up by borrowed ids rather than through
/// owned copies of every entry (which a one-page publish in a large project paid per page).
pub fn plan_known(release: &[ReleasePage], held: &[ReleasePage], force: bool) -> TargetPlan {
    let by_id: HashMap<&str, &ReleasePage> = held.iter().map(|p| (p.page_id.as_str(), p)).collect();
    let mut plan = TargetPlan::default();
    for page in release {
        let same = by_id
            .get(page.page_id.as_str())
            .is_some_and(|h| h.version == page.version && h.content_hash == page.content_hash);
        if same && !force {
            plan.unchanged += 1;
        } else {
            plan.upserts.push(page.clone());
        }
    }
    let wanted: std::collections::HashSet<&str> =
        release.iter().map(|r| r.page_id.as_str()).collect();
    plan.deletes = by_id
        .into_iter()
        .filter(|(id, _)| !wanted.contains(id))
        .map(|(id, h)| Removal {
            page_id: id.to_string(),
            slug: Some(h.slug.clone()),
        })
        .collect();
    plan.deletes.sort();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(id: &str, hash: &str, version: i64) -> ReleasePage {
        ReleasePage {
            page_id: id.into(),
            slug: id.into(),
            version,
            content_hash: hash.into(),
            published_at: "t0".into(),
        }
    }

    fn want(id: &str, hash: &str) -> Wanted {
        Wanted {
            page_id: id.into(),
            slug: id.into(),
            content_hash: hash.into(),
        }
    }

    #[test]
    fn versions_move_only_when_content_does() {
        let current = vec![
            page("a", "h1", 3),
            page("b", "h2", 1),
            page("gone", "h9", 2),
        ];
        let next = next_release(
            &current,
            &HashMap::new(),
            &[],
            &[want("a", "h1"), want("b", "new"), want("c", "h3")],
            &[],
            false,
            "t1",
        );
        assert_eq!(
            next.iter()
                .map(|p| (p.page_id.as_str(), p.version, p.published_at.as_str()))
                .collect::<Vec<_>>(),
            [("a", 3, "t0"), ("b", 2, "t1"), ("c", 1, "t1")]
        );
        let forced = next_release(
            &current,
            &HashMap::new(),
            &[],
            &[want("a", "h1")],
            &[],
            true,
            "t1",
        );
        assert_eq!(forced[0].version, 4);
        // A partial publish keeps the rest; an unpublish removes.
        let partial = next_release(
            &current,
            &HashMap::new(),
            &current,
            &[want("b", "new")],
            &["gone".into()],
            false,
            "t1",
        );
        assert_eq!(
            partial
                .iter()
                .map(|p| p.page_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn target_plans() {
        let release = vec![page("a", "h1", 3), page("b", "h2", 2)];
        let held: HashMap<String, Held> = [
            (
                "a".to_string(),
                Held {
                    content_hash: Some("h1".into()),
                    version: 3,
                    slug: None,
                },
            ),
            (
                "b".to_string(),
                Held {
                    content_hash: Some("h2".into()),
                    version: 1,
                    slug: None,
                },
            ),
            (
                "old".to_string(),
                Held {
                    content_hash: None,
                    version: 1,
                    slug: Some("old".into()),
                },
            ),
        ]
        .into();
        let plan = plan_target(&release, &held, false);
        assert_eq!(
            (plan.upserts.len(), plan.unchanged, plan.deletes.clone()),
            (
                1,
                1,
                vec![Removal {
                    page_id: "old".into(),
                    slug: Some("old".into())
                }]
            )
        );
        assert_eq!(plan.upserts[0].page_id, "b");
        assert_eq!(plan_target(&release, &held, true).upserts.len(), 2);
    }

    #[test]
    fn a_known_release_plans_as_its_rows_would() {
        let held = vec![
            page("a", "h1", 3),
            page("b", "h2", 1),
            page("gone", "h9", 2),
        ];
        let release = vec![page("a", "h1", 3), page("b", "h4", 2), page("c", "h3", 1)];
        let rows: HashMap<String, Held> = held
            .iter()
            .map(|p| {
                let h = Held {
                    content_hash: Some(p.content_hash.clone()),
                    version: p.version,
                    slug: Some(p.slug.clone()),
                };
                (p.page_id.clone(), h)
            })
            .collect();
        for force in [false, true] {
            assert_eq!(
                plan_known(&release, &held, force),
                plan_target(&release, &rows, force)
            );
        }
    }

    #[test]
    fn a_release_records_only_what_changed() {
        let previous = vec![page("a", "h1", 1), page("b", "h2", 1), page("c", "h3", 1)];
        let next = vec![page("a", "h1", 1), page("b", "h4", 2), page("d", "h5", 1)];
        let (changed, removed) = release_delta(&previous, &next);
        let ids = |v: &[ReleasePage]| v.iter().map(|p| p.page_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&changed), ["b", "d"]);
        assert_eq!(ids(&removed), ["c"]);
        assert_eq!(release_delta(&next, &next), (vec![], vec![]));
    }
}
