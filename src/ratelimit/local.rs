//! The in-process counters: a map from key to its two windows, bounded in memory. When it is
//! full, keys whose windows are over (they carry no information any more) go first, then the
//! least recently used eighth.

use super::window::{judge, locate, Verdict};
use std::collections::HashMap;
use std::sync::Mutex;

struct Counter {
    window: i64,
    prev: u64,
    curr: u64,
    used_ms: i64,
}

impl Counter {
    /// The counts as of window `w`.
    fn at(&self, w: i64) -> (u64, u64) {
        match w - self.window {
            0 => (self.prev, self.curr),
            1 => (self.curr, 0),
            _ => (0, 0),
        }
    }

    fn count(&mut self, w: i64, now_ms: i64) {
        let (prev, curr) = self.at(w);
        *self = Counter {
            window: w,
            prev,
            curr: curr + 1,
            used_ms: now_ms,
        };
    }
}

pub struct Local {
    max_keys: usize,
    counters: Mutex<HashMap<String, Counter>>,
}

impl Local {
    pub fn new(max_keys: usize) -> Local {
        Local {
            max_keys: max_keys.max(2),
            counters: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Counter>> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Judges a request on every key at once; it is counted (on all of them) only when
    /// every key allows it.
    pub fn check(&self, keys: &[(String, u64)], now_ms: i64) -> Vec<Verdict> {
        let (w, elapsed) = locate(now_ms);
        let mut map = self.lock();
        let verdicts: Vec<Verdict> = keys
            .iter()
            .map(|(name, limit)| {
                let (prev, curr) = map.get(name).map_or((0, 0), |c| c.at(w));
                judge(*limit, prev, curr, elapsed)
            })
            .collect();
        if verdicts.iter().all(|v| v.allowed) {
            Self::count(&mut map, self.max_keys, keys, w, now_ms);
        }
        verdicts
    }

    /// Counts a request another limiter allowed.
    pub fn record(&self, keys: &[(String, u64)], now_ms: i64) {
        let (w, _) = locate(now_ms);
        Self::count(&mut self.lock(), self.max_keys, keys, w, now_ms);
    }

    fn count(
        map: &mut HashMap<String, Counter>,
        max_keys: usize,
        keys: &[(String, u64)],
        w: i64,
        now_ms: i64,
    ) {
        for (name, _) in keys {
            if let Some(c) = map.get_mut(name) {
                c.count(w, now_ms);
                continue;
            }
            if map.len() >= max_keys {
                evict(map, max_keys, w);
            }
            map.insert(
                name.clone(),
                Counter {
                    window: w,
                    prev: 0,
                    curr: 1,
                    used_ms: now_ms,
                },
            );
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

fn evict(map: &mut HashMap<String, Counter>, max_keys: usize, w: i64) {
    map.retain(|_, c| w - c.window <= 1);
    if map.len() < max_keys {
        return;
    }
    let mut ages: Vec<i64> = map.values().map(|c| c.used_ms).collect();
    ages.sort_unstable();
    let cut = ages[(ages.len() / 8).min(ages.len() - 1)];
    map.retain(|_, c| c.used_ms > cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_only_when_every_key_allows() {
        let l = Local::new(100);
        let both = [("p".to_string(), 3), ("t1".to_string(), 2)];
        assert!(l.check(&both, 0).iter().all(|v| v.allowed));
        assert!(l.check(&both, 1).iter().all(|v| v.allowed));
        let third = l.check(&both, 2);
        assert!(third[0].allowed && !third[1].allowed);
        // The refused request was not counted on the project key: another token fits.
        let other = [("p".to_string(), 3), ("t2".to_string(), 2)];
        assert!(l.check(&other, 3).iter().all(|v| v.allowed));
        assert!(!l.check(&other, 4)[0].allowed);
    }

    #[test]
    fn memory_stays_bounded() {
        let l = Local::new(64);
        for i in 0..10_000 {
            l.check(&[(format!("k{i}"), 5)], i);
        }
        assert!(l.len() <= 64, "{}", l.len());
        // Recent keys survive eviction.
        assert!(!l.check(&[("k9999".to_string(), 1)], 10_000)[0].allowed);
    }
}
