//! Webhooks both ways: the signed publish hook with its secrets, and outgoing event endpoints.

pub mod endpoints;
pub mod hooks;

/// Mounts this room's routes under `/api`.
pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(hooks::routes).configure(endpoints::routes);
}
