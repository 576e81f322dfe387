//! The publish flow: jobs, what a job wants (`desired`), versions and diffs (`plan`),
//! recording a release (`release`), and the strategies pages are written through
//! (`targets`). Outbound connections live in `crate::net`, the page cache in `crate::cache`,
//! the background loop in `crate::worker`.

pub mod context;
pub mod desired;
pub mod drift;
pub mod dry_run;
mod error;
pub mod jobs;
pub mod plan;
pub mod release;
pub mod request;
pub mod retention;
pub mod retry;
pub mod schedule;
pub mod targets;
pub mod verify;
pub mod worker;
pub mod write;

pub use context::PublishContext;
pub use error::PublishError;
