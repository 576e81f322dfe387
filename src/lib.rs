//! edgepub: the control plane of a no-code site builder.
//!
//! `api` speaks HTTP only, `store` owns SQL for both SQLite and Postgres, `domain` holds the
//! parse-don't-validate types both of them share. `startup` wires them into an actix server
//! from a [`config::Config`] and an already-bound listener, so tests bind port 0.

pub mod api;
pub mod audit;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod compile;
pub mod config;
pub mod domain;
pub mod net;
pub mod pagebytes;
pub mod preflight;
pub mod preview;
pub mod proxy;
pub mod publish;
pub mod ratelimit;
pub mod secrets;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod webhooks;
pub mod worker;
