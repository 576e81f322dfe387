//! The official `@upstash/redis` SDK against the proxy, through `tests/proxy/sdk/upstash_sdk.mjs`.
//!
//! Needs `node` and the SDK installed (`npm install` where the project's package.json is);
//! `EDGEPUB_TEST_NODE_MODULES` says where its node_modules is.

use std::process::Command;

use crate::common::{prefix, TestProxy};

#[tokio::test]
async fn upstash_sdk_round_trips() {
    let p = TestProxy::start().await;
    let node_modules = std::env::var("EDGEPUB_TEST_NODE_MODULES")
        .unwrap_or_else(|_| "/work/main/node_modules".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/proxy/sdk/upstash_sdk.mjs"
    );
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .env("PROXY_URL", &p.url)
        .env("PROXY_TOKEN", &p.token)
        .env("KEY_PREFIX", prefix())
        .env("EDGEPUB_TEST_NODE_MODULES", &node_modules)
        .env("UPSTASH_DISABLE_TELEMETRY", "1");
    // The script talks to the proxy served by this runtime, so wait off-thread.
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join node runner")
        .expect("run node (is it installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK script failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed"),
        "unexpected summary: {last}"
    );
    println!("{stdout}");
    p.stop().await;
}
