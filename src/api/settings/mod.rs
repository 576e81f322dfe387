//! Where a project publishes to and caches in: targets and their tests, cache settings, the edge's settings sync, the verification schedule.

use crate::api::routes::Routes;

pub mod cache;
pub mod sync;
pub mod targets;
pub mod verification;

/// Mounts this room's routes under `/api`.
pub fn routes(r: &mut Routes) {
    cache::routes(r);
    targets::routes(r);
    sync::routes(r);
    verification::routes(r);
}
