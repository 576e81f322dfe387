//! Black-box tests: every scenario drives a real server over HTTP, on SQLite and on Postgres.

mod helpers;

mod auth;
mod cli;
mod concurrency;
mod errors;
mod ops;
mod pages;
mod projects;
mod versions;
