//! Webhooks both ways: the signed publish hook with its secrets, and outgoing event endpoints.

use crate::api::routes::Routes;

pub mod endpoints;
pub mod hooks;

/// Mounts this room's routes under `/api`.
pub fn routes(r: &mut Routes) {
    hooks::routes(r);
    endpoints::routes(r);
}
