//! Where a project publishes to and caches in: targets and their tests, cache settings, the edge's settings sync, the verification schedule.

pub mod cache;
pub mod sync;
pub mod targets;
pub mod verification;

/// Mounts this room's routes under `/api`.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(cache::routes)
        .configure(targets::routes)
        .configure(sync::routes)
        .configure(verification::routes);
}
