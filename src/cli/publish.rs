//! `edgepub publish`: enqueue a publish and optionally see it through with a progress bar.

use crate::api::publish::verification::LastPass;
use crate::config::Config;
use crate::domain::publish::{JobRequest, JobState};
use crate::domain::verification::Verification;
use crate::startup::publish_context;
use crate::store::publish::Enqueued;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

pub async fn publish(
    config: &Config,
    store: &Store,
    project: &str,
    force: bool,
    wait: bool,
) -> anyhow::Result<()> {
    let project = store
        .get_project(project)
        .await
        .map_err(|_| anyhow::anyhow!("no project `{project}`"))?;
    let job = store
        .atomic(async {
            let job = match store
                .enqueue_job(
                    project.id,
                    &JobRequest::Publish {
                        pages: None,
                        force,
                        targets: None,
                    },
                    None,
                    None,
                )
                .await?
            {
                Enqueued::Created(job) | Enqueued::Existing(job) => job,
                Enqueued::KeyReused => anyhow::bail!("unexpected idempotency conflict"),
            };
            let summary = crate::audit::Summary::of(&job.request);
            crate::audit::record_cli(store, "publish", Some(project.id), job.id, summary).await?;
            Ok::<_, anyhow::Error>(job)
        })
        .await?;
    eprintln!(
        "edgepub: publish job {} queued for `{}`",
        job.id, project.slug
    );
    if !wait {
        println!("{}", job.id);
        return Ok(());
    }
    // This process works too: it takes the project's lease when no server holds it, so
    // `--wait` finishes even when nothing else is running.
    let ctx = Arc::new(publish_context(config, store.clone()));
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:>10} [{bar:30}] {pos}/{len} pages ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let outcome = wait_here(&ctx, store, job.id, &bar).await;
    // The files this process wrote are closed clean (checkpointed, no -wal left).
    ctx.targets.local.close_all().await;
    outcome
}

async fn wait_here(
    ctx: &Arc<crate::publish::PublishContext>,
    store: &Store,
    job_id: uuid::Uuid,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    loop {
        if let Err(e) = crate::publish::worker::tick(ctx).await {
            tracing::warn!(error = %e, "publish pass failed; retrying");
        }
        let job = store.get_job(job_id).await?;
        bar.set_length(job.progress.pages_total.max(job.progress.pages_compiled));
        bar.set_position(job.progress.pages_compiled);
        bar.set_message(job.progress.stage.clone());
        match job.state {
            JobState::Succeeded => {
                bar.finish_and_clear();
                let written: u64 = job
                    .result
                    .as_ref()
                    .map_or(0, |r| r.targets.iter().map(|t| t.upserted).sum());
                eprintln!(
                    "edgepub: published {} pages ({written} rows written)",
                    job.progress.pages_total
                );
                return Ok(());
            }
            JobState::Partial => {
                bar.finish_and_clear();
                let failed: Vec<String> = job
                    .result
                    .iter()
                    .flat_map(|r| r.targets.iter().filter(|t| !t.ok))
                    .map(|t| format!("{}: {}", t.name, t.error.as_deref().unwrap_or("failed")))
                    .collect();
                anyhow::bail!(
                    "published to some targets only (retry with POST /api/publish-jobs/{}/retry): {}",
                    job.id,
                    failed.join("; ")
                );
            }
            JobState::Failed => {
                bar.finish_and_clear();
                let reason = job
                    .result
                    .and_then(|r| r.error)
                    .unwrap_or_else(|| "unknown error".into());
                anyhow::bail!("publish failed: {reason}");
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// `edgepub verify`: the drift report on stdout and a summary line on stderr; an error
/// (exit 1) only when something drifted (expired cache keys are not drift). The latest
/// scheduled pass is named on stderr too; with `last` it is all that is shown.
pub async fn verify(
    config: &Config,
    store: &Store,
    project: &str,
    last: bool,
) -> anyhow::Result<()> {
    let project = store
        .get_project(project)
        .await
        .map_err(|_| anyhow::anyhow!("no project `{project}`"))?;
    let scheduled = store.get_verification(project.id).await?;
    let pass = scheduled.as_ref().and_then(LastPass::of);
    let line = last_pass_line(scheduled.as_ref(), pass.as_ref());
    if last {
        let Some(pass) = pass else {
            anyhow::bail!("{line}");
        };
        println!("{}", serde_json::to_string_pretty(&pass)?);
        if pass.drifted {
            anyhow::bail!("{line}");
        }
        eprintln!("edgepub: {line}");
        return Ok(());
    }
    eprintln!("edgepub: {line}");
    let ctx = publish_context(config, store.clone());
    let report = crate::publish::drift::check(&ctx, &project)
        .await
        .map_err(|e| anyhow::anyhow!("the check failed: {e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    // Only drift fails: expired cache keys are listed but the check stays green, so it can
    // run from cron or CI.
    if report.drifted {
        anyhow::bail!("{}", report.summary());
    }
    eprintln!("edgepub: {}", report.summary());
    Ok(())
}

/// One line on the latest scheduled pass: when, how long, what it found; or why there is none.
fn last_pass_line(v: Option<&Verification>, pass: Option<&LastPass>) -> String {
    let schedule = match v.filter(|v| v.interval_secs > 0) {
        Some(v) => format!("every {} s", v.interval_secs),
        None => "off".to_string(),
    };
    match pass {
        Some(p) => format!(
            "last scheduled pass #{} at {} took {} ms ({schedule}): {}",
            p.pass,
            p.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            p.duration_ms,
            p.summary
        ),
        None => format!("no scheduled verification pass yet (schedule: {schedule})"),
    }
}
