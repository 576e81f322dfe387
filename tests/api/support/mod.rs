//! What scenarios share: a real edgepub server per test on a fresh database (`app`, `db`),
//! publish jobs (`jobs`), and the other servers tests talk to (`peers`, `private_pg`, the
//! stand-ins `fake_edge` and `subscriber`). Everything a scenario needs is re-exported here, so
//! it imports one module.

mod app;
pub mod audit;
pub mod cache;
pub mod cache_step;
pub mod cli;
mod db;
pub mod drift;
pub mod fake_edge;
mod jobs;
pub mod peers;
pub mod private_pg;
pub mod publish;
pub mod push_edge;
pub mod ratelimit;
pub mod schedules;
pub mod subscriber;
pub mod turso;
pub mod webhook_events;

pub use app::*;
pub use db::*;
pub use jobs::*;
pub use peers::*;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a scenario `async fn name(backend: Backend)` once per backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}
