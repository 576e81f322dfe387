//! Running edgepub: API tokens, the audit log, health probes and metrics.

pub mod audit;
pub mod health;
pub mod tokens;

/// Mounts this room's routes under `/api`.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(tokens::routes).configure(audit::routes);
}
