//! The sliding-window counter both limiters share (Redis and in-process), as pure functions:
//! a request is allowed when the previous minute's count, weighted by how much of it still
//! overlaps the last 60 seconds, plus this minute's count stays within the limit. Two
//! counters per key, no per-request log, and no burst at a window boundary.

/// The window every limit is counted in.
pub const WINDOW_MS: i64 = 60_000;

/// Where `now_ms` (Unix milliseconds) falls: the window's index and how far into it.
pub fn locate(now_ms: i64) -> (i64, i64) {
    (now_ms.div_euclid(WINDOW_MS), now_ms.rem_euclid(WINDOW_MS))
}

/// The weighted count given the previous and current windows' counts.
pub fn estimate(prev: u64, curr: u64, elapsed_ms: i64) -> f64 {
    let left = 1.0 - (elapsed_ms as f64 / WINDOW_MS as f64);
    prev as f64 * left.max(0.0) + curr as f64
}

/// The answer for one key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the current window ends.
    pub reset_secs: u64,
    /// Seconds until one more request would be allowed (0 when allowed now).
    pub retry_after_secs: u64,
}

/// Judges a request given the counts *before* it: allowed when counting it keeps the
/// weighted count within `limit`.
pub fn judge(limit: u64, prev: u64, curr: u64, elapsed_ms: i64) -> Verdict {
    let after = estimate(prev, curr + 1, elapsed_ms);
    // The tolerance absorbs float rounding at exact boundaries (3 × ⅔ + 1 must fit 3).
    let allowed = after <= limit as f64 + 1e-9;
    let counted = if allowed {
        after
    } else {
        estimate(prev, curr, elapsed_ms)
    };
    let remaining = (limit as f64 - counted + 1e-9).floor().max(0.0) as u64;
    Verdict {
        allowed,
        limit,
        remaining,
        reset_secs: secs_ceil(WINDOW_MS - elapsed_ms),
        retry_after_secs: if allowed {
            0
        } else {
            secs_ceil(wait_ms(limit, prev, curr, elapsed_ms)).max(1)
        },
    }
}

fn secs_ceil(ms: i64) -> u64 {
    u64::try_from((ms.max(0) + 999) / 1000).unwrap_or(0)
}

/// Milliseconds until `estimate(prev, curr + 1, …) <= limit`, assuming nothing else is
/// counted meanwhile.
fn wait_ms(limit: u64, prev: u64, curr: u64, elapsed_ms: i64) -> i64 {
    let w = WINDOW_MS as f64;
    let f = elapsed_ms as f64 / w;
    // Still in this window: the previous window's weight has to fall far enough.
    if curr < limit && prev > 0 {
        let need = 1.0 - (limit - curr - 1) as f64 / prev as f64;
        if need < 1.0 {
            return (((need - f).max(0.0)) * w).ceil() as i64;
        }
    }
    // In the next window this window's count is the weighted one.
    let g = if curr == 0 || limit == 0 {
        0.0
    } else {
        (1.0 - (limit - 1) as f64 / curr as f64).max(0.0)
    };
    (((1.0 - f) + g) * w).ceil() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_refuses_with_a_wait_that_works() {
        let limit = 3;
        for curr in 0..3 {
            assert!(judge(limit, 0, curr, 1_000).allowed);
        }
        let v = judge(limit, 0, 3, 1_000);
        assert!(!v.allowed);
        assert_eq!(v.remaining, 0);
        assert_eq!(v.reset_secs, 59);
        // After the wait, one more fits: the full count moved to the previous window and
        // decayed enough.
        let t = 1_000 + i64::try_from(v.retry_after_secs).unwrap() * 1000;
        let (next_prev, next_curr, at) = if t >= WINDOW_MS {
            (3, 0, t - WINDOW_MS)
        } else {
            (0, 3, t)
        };
        assert!(judge(limit, next_prev, next_curr, at).allowed);
        // A second earlier it would not have.
        let early = at - 1_000;
        if early >= 0 {
            assert!(!judge(limit, next_prev, next_curr, early).allowed);
        }
    }

    #[test]
    fn the_previous_window_weighs_less_as_time_passes() {
        assert!(!judge(10, 10, 0, 0).allowed);
        assert!(judge(10, 10, 0, 6_000).allowed);
        let v = judge(10, 10, 0, 1_000);
        assert!(!v.allowed);
        assert_eq!(v.retry_after_secs, 5);
        assert_eq!(judge(10, 0, 4, 0).remaining, 5);
    }

    #[test]
    fn locate_splits_time_into_windows() {
        assert_eq!(locate(125_000), (2, 5_000));
        assert_eq!(locate(0), (0, 0));
    }
}
