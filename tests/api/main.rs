//! Black-box tests: every scenario drives a real server over HTTP, on SQLite and on Postgres.

mod helpers;

mod auth;
mod cache;
mod cache_step;
mod cli;
mod cli_more;
mod concurrency;
mod connections;
mod datasources;
mod drift;
mod durability;
mod edge_file;
mod errors;
mod fake_edge;
mod ops;
mod pages;
mod projects;
mod publish;
mod push_edge;
mod readers;
mod replicas;
mod saves;
mod secrets;
mod settings;
mod targets;
mod turso;
mod versions;
mod webhooks;
