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
    // `base` comes in page-id order (the held current release), so the stable sort mostly
    // merges the wanted pages in.
    out.sort_by(|a, b| a.page_id.cmp(&b.page_id));
    out
}

/// Two page lists walked together in page-id order: each id met in the old list only, the
/// new only, or both. Lists already in that order (a release, the held current one) are
/// walked as they are; a one-page publish in a large project then costs one merge, not two
/// hash tables of every page.
enum Met<'a> {
    Old(&'a ReleasePage),
    New(&'a ReleasePage),
    Both(&'a ReleasePage, &'a ReleasePage),
}

fn by_id(pages: &[ReleasePage]) -> Vec<&ReleasePage> {
    let mut refs: Vec<&ReleasePage> = pages.iter().collect();
    // A stable sort finds a sorted list sorted in one pass.
    refs.sort_by(|a, b| a.page_id.cmp(&b.page_id));
    refs
}

fn merge<'a>(old: &'a [ReleasePage], new: &'a [ReleasePage], mut f: impl FnMut(Met<'a>)) {
    let (old, new) = (by_id(old), by_id(new));
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => match o.page_id.cmp(&n.page_id) {
                std::cmp::Ordering::Less => {
                    f(Met::Old(o));
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    f(Met::New(n));
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    f(Met::Both(o, n));
                    i += 1;
                    j += 1;
                }
            },
            (Some(o), None) => {
                f(Met::Old(o));
                i += 1;
            }
            (None, Some(n)) => {
                f(Met::New(n));
                j += 1;
            }
            (None, None) => return,
        }
    }
}

/// What a release changes against the one before: pages new or different in `next`, and
/// pages of `previous` that `next` no longer has (each in page-id order). Only these are
/// recorded, so a release costs what changed.
pub fn release_delta(
    previous: &[ReleasePage],
    next: &[ReleasePage],
) -> (Vec<ReleasePage>, Vec<ReleasePage>) {
    let (mut changed, mut removed) = (Vec::new(), Vec::new());
    merge(previous, next, |m| match m {
        Met::Old(p) => removed.push(p.clone()),
        Met::New(n) => changed.push(n.clone()),
        Met::Both(p, n) if p != n => changed.push(n.clone()),
        Met::Both(..) => {}
    });
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
/// plan as [`plan_target`] over those pages, found by one merge of the two lists rather than
/// through owned copies of every entry (which a one-page publish in a large project paid per
/// page). Upserts come in page-id order.
pub fn plan_known(release: &[ReleasePage], held: &[ReleasePage], force: bool) -> TargetPlan {
    let mut plan = TargetPlan::default();
    merge(held, release, |m| match m {
        Met::Both(h, page)
            if !force && h.version == page.version && h.content_hash == page.content_hash =>
        {
            plan.unchanged += 1;
        }
        Met::Both(_, page) | Met::New(page) => plan.upserts.push(page.clone()),
        Met::Old(h) => plan.deletes.push(Removal {
            page_id: h.page_id.clone(),
            slug: Some(h.slug.clone()),
        }),
    });
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
        let (mut held_back, mut release_back) = (held.clone(), release.clone());
        held_back.reverse();
        release_back.reverse();
        for force in [false, true] {
            let plan = plan_target(&release, &rows, force);
            assert_eq!(plan_known(&release, &held, force), plan);
            // Lists in another order are merged in page-id order all the same.
            assert_eq!(plan_known(&release_back, &held_back, force), plan);
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
        let back = |v: &[ReleasePage]| v.iter().rev().cloned().collect::<Vec<_>>();
        assert_eq!(
            release_delta(&back(&previous), &back(&next)),
            (changed, removed)
        );
    }
}
