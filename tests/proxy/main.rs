//! The built-in Upstash-compatible REST proxy against a real Redis, and against the official
//! `@upstash/redis` SDK.

mod commands;
mod common;
mod guards;
mod sdk;
