//! Cache clients for the request path (rate limits, previews), kept per project so a request
//! does not open a connection. A client is reused while the project's cache settings are
//! unchanged; a cache that could not be reached is not tried again for a few seconds, so an
//! outage costs one failed connect per project and pause, not one per request. The pause is
//! measured on the injected clock, so tests move past it instead of sleeping.

use super::{connect, Cache};
use crate::clock::SharedClock;
use crate::domain::settings::CacheSettings;
use crate::net::{ConnError, ErrorKind, NetPolicy};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Projects whose client is kept at once; the least recently used one is dropped beyond.
const MAX_CLIENTS: usize = 256;
/// How long a cache that failed is left alone before it is tried again.
const DOWN_FOR_MS: i64 = 5_000;

enum Slot {
    Up(Arc<dyn Cache>),
    /// Failed at this time (the clock's Unix milliseconds).
    Down(i64),
}

struct Entry {
    fingerprint: [u8; 32],
    slot: Slot,
    used: Instant,
}

pub struct ClientPool {
    policy: NetPolicy,
    timeout: Duration,
    clock: SharedClock,
    entries: Mutex<HashMap<Uuid, Entry>>,
}

/// Whether the settings describe a cache edgepub should use.
pub fn configured(s: &CacheSettings) -> bool {
    s.redis_enabled && s.redis_url.is_some()
}

fn fingerprint(s: &CacheSettings) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [
        Some(s.redis_type.as_str()),
        s.redis_url.as_deref(),
        s.redis_token.as_deref(),
        s.redis_password.as_deref(),
        s.redis_master_name.as_deref(),
    ] {
        h.update(part.unwrap_or("\u{0}").as_bytes());
        h.update([0xff]);
    }
    h.finalize().into()
}

fn down() -> ConnError {
    ConnError::new(
        ErrorKind::Refused,
        "the cache failed moments ago; not retried yet",
    )
}

impl ClientPool {
    /// `timeout` bounds connecting and every command of the clients handed out.
    pub fn new(policy: NetPolicy, timeout: Duration, clock: SharedClock) -> ClientPool {
        ClientPool {
            policy,
            timeout,
            clock,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Entry>> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The project's client for these settings, connecting when needed.
    pub async fn client(
        &self,
        project: Uuid,
        s: &CacheSettings,
    ) -> Result<Arc<dyn Cache>, ConnError> {
        let fp = fingerprint(s);
        {
            let mut entries = self.lock();
            if let Some(e) = entries.get_mut(&project).filter(|e| e.fingerprint == fp) {
                e.used = Instant::now();
                match &e.slot {
                    Slot::Up(c) => return Ok(c.clone()),
                    Slot::Down(at) if self.now_ms() - at < DOWN_FOR_MS => return Err(down()),
                    Slot::Down(_) => {}
                }
            }
        }
        let result: Result<Arc<dyn Cache>, ConnError> =
            tokio::time::timeout(self.timeout, connect(s, self.policy, self.timeout))
                .await
                .unwrap_or_else(|_| {
                    Err(ConnError::new(
                        ErrorKind::Timeout,
                        "the cache did not answer in time",
                    ))
                })
                .map(Arc::from);
        let slot = match &result {
            Ok(c) => Slot::Up(c.clone()),
            Err(_) => Slot::Down(self.now_ms()),
        };
        self.put(project, fp, slot);
        result
    }

    /// Marks the project's cache as failing: its client is dropped and not rebuilt for a
    /// few seconds.
    pub fn failed(&self, project: Uuid) {
        if let Some(e) = self.lock().get_mut(&project) {
            e.slot = Slot::Down(self.now_ms());
        }
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    fn put(&self, project: Uuid, fingerprint: [u8; 32], slot: Slot) {
        let mut entries = self.lock();
        if entries.len() >= MAX_CLIENTS && !entries.contains_key(&project) {
            if let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            project,
            Entry {
                fingerprint,
                slot,
                used: Instant::now(),
            },
        );
    }
}
