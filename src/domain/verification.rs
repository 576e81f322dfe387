//! Continuous verification settings: how often a project's targets and cache are compared
//! with its last release, and what the verifier may repair on its own.

use super::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// The shortest interval: a pass reads every page of every target, so more often than this
/// would make verification the project's main load.
pub const MIN_INTERVAL_SECS: i64 = 60;
/// A week.
pub const MAX_INTERVAL_SECS: i64 = 604_800;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RepairMode {
    /// Report drift only.
    #[default]
    Off,
    /// Re-prime (or delete) drifted cache keys.
    Cache,
    /// Also rewrite drifted target rows, as the repair job does.
    All,
}

impl RepairMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RepairMode::Off => "off",
            RepairMode::Cache => "cache",
            RepairMode::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<RepairMode> {
        match s {
            "off" => Some(RepairMode::Off),
            "cache" => Some(RepairMode::Cache),
            "all" => Some(RepairMode::All),
            _ => None,
        }
    }
}

/// The schedule as set through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationInput {
    /// Seconds between passes (60 to 604800); 0 turns verification off (the default).
    #[schema(schema_with = interval_schema)]
    #[serde(deserialize_with = "super::integral")]
    pub interval_secs: i64,
    /// What a pass repairs on its own: `off` (report only), `cache` (drifted cache keys) or
    /// `all` (also drifted target rows, through a repair job).
    #[serde(default)]
    pub repair: RepairMode,
}

/// What [`VerificationInput::validate`] accepts, for the OpenAPI document: 0, or an interval
/// within the bounds.
fn interval_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    let integer = || {
        ObjectBuilder::new().schema_type(Type::Integer).format(Some(
            utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64),
        ))
    };
    OneOfBuilder::new()
        .item(
            integer()
                .minimum(Some(0))
                .maximum(Some(0))
                .description(Some("off")),
        )
        .item(
            integer()
                .minimum(Some(MIN_INTERVAL_SECS))
                .maximum(Some(MAX_INTERVAL_SECS)),
        )
        .description(Some(
            "Seconds between passes (60 to 604800); 0 turns verification off (the default).",
        ))
        .examples([serde_json::json!(900)])
        .build()
        .into()
}

impl VerificationInput {
    pub fn validate(self) -> Result<Self, Vec<FieldError>> {
        let i = self.interval_secs;
        if i != 0 && !(MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&i) {
            return Err(vec![FieldError {
                path: "/interval_secs".into(),
                code: "out_of_range",
                message: format!(
                    "must be 0 (off) or from {MIN_INTERVAL_SECS} to {MAX_INTERVAL_SECS} seconds"
                ),
            }]);
        }
        Ok(self)
    }
}

/// A project's verification row: its schedule and its latest pass.
#[derive(Debug, Clone)]
pub struct Verification {
    pub project_id: Uuid,
    pub interval_secs: i64,
    pub repair: RepairMode,
    pub next_run_at: Option<DateTime<Utc>>,
    /// Passes claimed so far; the claim's fence.
    pub runs: i64,
    /// The pass whose result is kept.
    pub last_pass: Option<i64>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_duration_ms: Option<i64>,
    pub last_drifted: Option<bool>,
    /// The last pass's drift report as JSON.
    pub last_report: Option<Value>,
}
