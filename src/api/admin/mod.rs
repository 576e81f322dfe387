//! Running edgepub: API tokens, the audit log, health probes and metrics.

use crate::api::routes::Routes;

pub mod audit;
pub mod health;
pub mod tokens;

/// Mounts this room's routes under `/api`.
pub fn routes(r: &mut Routes) {
    tokens::routes(r);
    audit::routes(r);
}
