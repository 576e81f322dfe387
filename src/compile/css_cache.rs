//! Memoised CSS bundles, keyed by the hash of what a bundle depends on.
//!
//! Each key owns an `Arc<OnceLock<..>>`: the map lock is held only to find or insert the
//! cell, never while building, and `OnceLock::get_or_init` makes every concurrent caller of
//! the same key wait for the one build already under way instead of repeating it. Different
//! keys build in parallel.
//!
//! Share one `CssCache` (e.g. in an `Arc`) across compiles for the life of the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde_json::Value;

use super::css::{build_bundle, css_entries};
use super::json::hash_value;

/// Entries kept before finished ones are dropped.
pub const DEFAULT_CSS_CACHE_CAPACITY: usize = 1024;
/// Bytes of finished bundles kept before they are dropped: a process keeps a few MB of CSS,
/// not a project's worth (1,000 pages with their own ids kept ~15 MB for good, measured).
pub const CSS_CACHE_BYTES: usize = 2 << 20;

type Cell = Arc<OnceLock<Arc<String>>>;

/// A thread-safe memo of CSS bundles.
#[derive(Debug)]
pub struct CssCache {
    entries: Mutex<HashMap<String, Cell>>,
    capacity: usize,
    builds: AtomicUsize,
    /// Bytes of the bundles built since the map was last cleared.
    bytes: AtomicUsize,
}

impl Default for CssCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CSS_CACHE_CAPACITY)
    }
}

impl CssCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cache that holds about `capacity` bundles (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            builds: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        }
    }

    /// The bundle of a normalised `content` array, built at most once per distinct input.
    pub fn bundle(&self, content: &Value) -> Arc<String> {
        let entries = css_entries(content);
        let key = hash_value(&entries);
        self.get_or_build(&key, || build_bundle(&entries))
    }

    /// How many bundles were actually built (not served from the memo) so far.
    pub fn builds(&self) -> usize {
        self.builds.load(Ordering::Relaxed)
    }

    /// Bundles currently held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cell>> {
        // The lock guards only map lookups that cannot panic half-way, so a poisoned map is
        // still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value for `key`, running `build` only if no other call has (or is doing so).
    pub(crate) fn get_or_build(&self, key: &str, build: impl FnOnce() -> String) -> Arc<String> {
        let cell = {
            let mut entries = self.lock();
            let full = entries.len() >= self.capacity
                || self.bytes.load(Ordering::Relaxed) >= CSS_CACHE_BYTES;
            if !entries.contains_key(key) && full {
                // Keep cells still being built so their waiters keep sharing one build.
                entries.retain(|_, cell| cell.get().is_none());
                self.bytes.store(0, Ordering::Relaxed);
            }
            Arc::clone(entries.entry(key.to_owned()).or_default())
        };
        Arc::clone(cell.get_or_init(|| {
            self.builds.fetch_add(1, Ordering::Relaxed);
            let css = build();
            self.bytes.fetch_add(css.len(), Ordering::Relaxed);
            Arc::new(css)
        }))
    }
}
