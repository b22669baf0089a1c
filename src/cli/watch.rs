//! `lossy watch`: re-expands a study's checkpoint patterns every few seconds
//! and rewrites its report after each new checkpoint, until Ctrl-C (or once,
//! with `--once`). The library's [`lossy::pipeline::watch`] does the work;
//! this file parses the arguments and turns Ctrl-C into a stop between
//! checkpoints (signal-hook; a second Ctrl-C exits at once).

use super::Failure;
use lossy::pipeline::watch::{watch, WatchError, WatchOptions};
use lossy::pipeline::RunOptions;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Study file (YAML, version 1) whose models include checkpoint patterns.
    study: PathBuf,
    /// Report folder [default: reports/<study name>].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Seconds between looks for new checkpoints.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    interval: f64,
    /// Report on what is ready now and exit (for cron or a Slurm job).
    #[arg(long)]
    once: bool,
    /// Print no progress lines.
    #[arg(long, short)]
    quiet: bool,
    /// Use only cached hub files and shipped snapshots (as HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    if !(args.interval.is_finite() && args.interval > 0.0) {
        return Err(Failure::input(anyhow::anyhow!(
            "--interval must be a positive number of seconds, not {}",
            args.interval
        )));
    }
    let output = match &args.output {
        Some(o) => o.clone(),
        None => {
            let study = lossy::study::load(&args.study).map_err(Failure::input)?;
            PathBuf::from("reports").join(&study.name)
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // the second signal exits at once (code 130); the first asks for a clean stop
        signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(signal, stop.clone()))
            .map_err(Failure::running)?;
    }
    let quiet = args.quiet;
    let mut progress = |msg: &str| {
        if !quiet {
            eprintln!("{msg}");
        }
    };
    let options = WatchOptions {
        run: RunOptions {
            offline: args.offline,
            feature_cache: Some(lossy::features::cache::default_dir()),
            features_from: None,
            from_shards: false,
        },
        interval: Duration::from_secs_f64(args.interval),
        once: args.once,
    };
    match watch(&args.study, &output, &options, &stop, &mut progress) {
        Ok(summary) => {
            println!(
                "report: {} ({} version(s) written; {} model(s) in the last)",
                output.display(),
                summary.reports,
                summary.models.len()
            );
            Ok(())
        }
        Err(e @ WatchError::Study(_)) => Err(Failure::input(e)),
        Err(e) => Err(Failure::classify(e)),
    }
}
