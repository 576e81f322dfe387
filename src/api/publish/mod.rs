//! Publishing and what follows it: jobs and their events, retries, releases and rollback, drift, schedules, continuous verification.

use crate::api::routes::Routes;

pub mod drift;
pub mod events;
pub mod jobs;
pub mod releases;
pub mod retry;
pub mod schedules;
pub mod verification;

/// Mounts this room's routes under `/api`.
pub fn routes(r: &mut Routes) {
    jobs::routes(r);
    events::routes(r);
    retry::routes(r);
    releases::routes(r);
    drift::routes(r);
    schedules::routes(r);
    verification::routes(r);
}
