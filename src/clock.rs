//! Time is injected so leases, TTLs and schedules can be tested without sleeping.

use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time, truncated to microseconds: Postgres stores no more, and both backends
/// must hand back exactly what was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

pub type SharedClock = Arc<dyn Clock>;

pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// Wall-clock time moved forward on demand: tests drive retry schedules, TTLs and schedules
/// with it instead of sleeping through minutes. Only ever moves forward.
#[derive(Debug, Default)]
pub struct ManualClock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms.fetch_add(
            by.num_milliseconds().max(0),
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(std::sync::atomic::Ordering::SeqCst);
        SystemClock.now() + chrono::Duration::milliseconds(offset)
    }
}
