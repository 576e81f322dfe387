//! Publishing: where compiled pages go (`targets`) and the page cache edges read (`cache`).
//! `probe` and `net` are shared by both: the error kinds a "Test connection" button shows and
//! the outbound address policy.

pub mod cache;
pub mod desired;
pub mod jobs;
pub mod net;
pub mod plan;
pub mod probe;
pub mod targets;
pub mod worker;
