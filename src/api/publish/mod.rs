//! Publishing and what follows it: jobs and their events, retries, releases and rollback, drift, schedules, continuous verification.

pub mod drift;
pub mod events;
pub mod jobs;
pub mod releases;
pub mod retry;
pub mod schedules;
pub mod verification;

/// Mounts this room's routes under `/api`.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(jobs::routes)
        .configure(events::routes)
        .configure(retry::routes)
        .configure(releases::routes)
        .configure(drift::routes)
        .configure(schedules::routes)
        .configure(verification::routes);
}
