//! One retry helper for every outbound call: exponential backoff with full jitter, and a
//! retry decided by the error's kind (transient transport trouble is retried; a refusal is
//! final). Targets, caches and webhook delivery all use it, so their behaviour under an
//! outage is the same.

use super::ConnError;
use rand::Rng;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: 4,
            base: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The pause before retry number `n` (1-based): a random time up to `base * 2^(n-1)`,
    /// capped at `max`, so many clients retrying at once spread out.
    pub fn delay(&self, n: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
            .min(self.max);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms.max(1)))
    }
}

/// Runs `op` until it succeeds, fails with a final error, or runs out of attempts.
pub async fn retry<T, F, Fut>(backoff: Backoff, mut op: F) -> Result<T, ConnError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ConnError>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.kind.is_transient() && attempt < backoff.attempts.max(1) => {
                tracing::debug!(attempt, kind = ?e.kind, "retrying after a transient error");
                tokio::time::sleep(backoff.delay(attempt)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ErrorKind;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick(attempts: u32) -> Backoff {
        Backoff {
            attempts,
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn transient_errors_are_retried_final_ones_are_not() {
        let calls = AtomicU32::new(0);
        let r = retry(quick(3), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ConnError::new(ErrorKind::Refused, "down"))
        })
        .await;
        assert_eq!((r.is_err(), calls.load(Ordering::SeqCst)), (true, 3));
        calls.store(0, Ordering::SeqCst);
        let r = retry(quick(3), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ConnError::new(ErrorKind::Auth, "no"))
        })
        .await;
        assert_eq!((r.is_err(), calls.load(Ordering::SeqCst)), (true, 1));
        calls.store(0, Ordering::SeqCst);
        let r = retry(quick(5), || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 {
                Err(ConnError::new(ErrorKind::Timeout, "slow"))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(r, Ok(2));
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        let b = Backoff {
            attempts: 10,
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
        };
        assert!(b.delay(1) <= Duration::from_millis(100));
        assert!(b.delay(8) <= Duration::from_millis(1000));
        assert!(b.delay(8) >= Duration::from_millis(500));
    }
}
