//! `lossy shard` computes one model of a study into the feature cache (a
//! Slurm array task); `lossy assemble` builds the report from the shards
//! alone. See `lossy::pipeline::shard`.

use super::{progress, Failure};
use anyhow::Context;
use lossy::pipeline::shard::{self, ShardTarget};
use lossy::pipeline::RunOptions;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Study file (YAML, version 1).
    study: PathBuf,
    /// The model to compute, by name.
    #[arg(long, conflicts_with = "index")]
    model: Option<String>,
    /// The model to compute, by its 0-based place in the study [default:
    /// $SLURM_ARRAY_TASK_ID].
    #[arg(long)]
    index: Option<usize>,
    /// Refuse to run unless the study file still has this sha256 (what
    /// `lossy slurm` saw when it wrote the jobs).
    #[arg(long, value_name = "SHA256")]
    expect_study_sha256: Option<String>,
    /// Print no progress.
    #[arg(long, short)]
    quiet: bool,
    /// Use only cached hub files and shipped snapshots (as HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
}

#[derive(clap::Args)]
pub struct AssembleArgs {
    /// Study file (YAML, version 1).
    study: PathBuf,
    /// Report folder [default: reports/<study name>].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Refuse to run unless the study file still has this sha256.
    #[arg(long, value_name = "SHA256")]
    expect_study_sha256: Option<String>,
    /// Print no progress.
    #[arg(long, short)]
    quiet: bool,
    /// Use only cached hub files and shipped snapshots (as HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
}

/// `$SLURM_ARRAY_TASK_ID` as an index, when set.
fn task_id() -> Result<Option<usize>, Failure> {
    match std::env::var("SLURM_ARRAY_TASK_ID") {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            Failure::input(anyhow::anyhow!(
                "SLURM_ARRAY_TASK_ID is `{v}`, not a task index"
            ))
        }),
        Err(_) => Ok(None),
    }
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let study = lossy::study::load(&args.study).map_err(Failure::input)?;
    shard::check_study_sha256(&study, args.expect_study_sha256.as_deref())
        .map_err(Failure::input)?;
    let target = match (&args.model, args.index) {
        (Some(name), _) => ShardTarget::Model(name.clone()),
        (None, Some(i)) => ShardTarget::Index(i),
        (None, None) => ShardTarget::Index(task_id()?.ok_or_else(|| {
            Failure::input(anyhow::anyhow!(
                "which shard? give --model NAME or --index I (or run it as a Slurm array task)"
            ))
        })?),
    };
    study.features.device.open().map_err(Failure::input)?;
    let cache = lossy::features::cache::default_dir();
    let options = RunOptions {
        offline: args.offline,
        feature_cache: Some(cache.clone()),
        features_from: None,
        from_shards: false,
    };
    let mut progress = progress::Reporter::new(args.quiet);
    let done = shard::compute(&study, &target, &cache, &options, &mut progress)
        .with_context(|| format!("shard of study {} failed", args.study.display()));
    progress.finish();
    let record = done.map_err(Failure::classify)?;
    println!(
        "shard {} ({}): features cached as {}",
        record.index, record.model, record.record.feature_cache_key
    );
    Ok(())
}

pub fn assemble(args: &AssembleArgs) -> Result<(), Failure> {
    let study = lossy::study::load(&args.study).map_err(Failure::input)?;
    shard::check_study_sha256(&study, args.expect_study_sha256.as_deref())
        .map_err(Failure::input)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&study.name));
    let mut progress = progress::Reporter::new(args.quiet);
    let summary = lossy::pipeline::run(
        &study,
        &output,
        &RunOptions {
            offline: args.offline,
            feature_cache: Some(lossy::features::cache::default_dir()),
            features_from: None,
            from_shards: true,
        },
        &mut progress,
    )
    .with_context(|| format!("assembling study {} failed", args.study.display()));
    progress.finish();
    let summary = summary.map_err(Failure::classify)?;
    println!("report: {}", summary.report_dir.display());
    Ok(())
}
