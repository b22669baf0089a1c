//! Command-line parsing and dispatch.

mod bench;
mod choice;
mod estimate;
mod exit;
mod model;
mod plan;
mod progress;
mod shard;
mod slurm;
mod watch;

use anyhow::Context;

use clap::{Parser, Subcommand};
use lossy::study;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// lossy measures how a language model's hidden states compress their inputs
/// (soft-entropy complexity I(X;Z), expressivity I(Y;Z) and their ratio,
/// optimality, per layer) and links them to downstream benchmark scores.
///
/// A study is declared in a YAML file: models, a probing corpus, feature
/// settings, scores and a fit. `lossy run` executes it and writes a
/// self-contained report.
#[derive(Parser)]
#[command(name = "lossy", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a study file and the paths it names, without running anything heavy.
    Validate {
        /// Study files (YAML, version 1).
        #[arg(required = true)]
        studies: Vec<PathBuf>,
    },
    /// Run a study: features for every model, scores, fit, figures and report.
    Run {
        /// Study file (YAML, version 1).
        study: PathBuf,
        /// Report folder [default: reports/<study name>].
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Print no progress (bars on a terminal, periodic lines elsewhere).
        #[arg(long, short)]
        quiet: bool,
        /// Use only cached hub files and shipped snapshots (as HF_HUB_OFFLINE=1).
        #[arg(long)]
        offline: bool,
        /// Compute every model's features afresh (neither read nor write the
        /// feature cache in $LOSSY_CACHE, default ~/.cache/lossy).
        #[arg(long)]
        no_cache: bool,
        /// Fit and report on the features in this table (an earlier run's
        /// features.csv or .parquet, from any machine) instead of running
        /// the models.
        #[arg(long, value_name = "FILE")]
        features: Option<PathBuf>,
    },
    /// Keep a study's report current while a training run writes checkpoints.
    Watch(watch::Args),
    /// What a study will cost per model (resolves models, runs none).
    Plan(plan::Args),
    /// Compute one model of a study (a shard) into the feature cache.
    Shard(shard::Args),
    /// Build a study's report from the shards in the feature cache, running no model.
    Assemble(shard::AssembleArgs),
    /// Write (and with --submit, submit) Slurm jobs: one array task per model, then the assembly.
    Slurm(slurm::Args),
    /// Soft entropy and mutual information of arbitrary embeddings (.npy).
    Estimate(estimate::Args),
    /// The most likely next tokens after a prompt, with log-probabilities (JSON).
    NextToken(model::NextTokenArgs),
    /// Write a text's hidden states at every layer to .npy.
    HiddenStates(model::HiddenStatesArgs),
    /// Time the forward pass with per-layer capture (for scripts/bench_engine.py).
    #[command(hide = true)]
    BenchForward(bench::Args),
}

/// An error with the exit code it deserves.
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn input(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: 2,
            error: error.into(),
        }
    }
    /// A failure while running: exit code 1.
    pub fn running(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: 1,
            error: error.into(),
        }
    }
    /// Exit code 2 or 1 as the error's chain says (see [`exit`]).
    pub fn classify(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        let code = if exit::is_bad_input(&error) { 2 } else { 1 };
        Self { code, error }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { studies } => validate(&studies),
        Command::Run {
            study,
            output,
            quiet,
            offline,
            no_cache,
            features,
        } => run(
            &study,
            output.as_deref(),
            quiet,
            offline,
            no_cache,
            features,
        ),
        Command::Watch(args) => watch::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Shard(args) => shard::run(&args),
        Command::Assemble(args) => shard::assemble(&args),
        Command::Slurm(args) => slurm::run(&args),
        Command::Estimate(args) => estimate::run(&args),
        Command::NextToken(args) => model::next_token(&args),
        Command::HiddenStates(args) => model::hidden_states(&args),
        Command::BenchForward(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

fn validate(paths: &[PathBuf]) -> Result<(), Failure> {
    let mut invalid = 0;
    for path in paths {
        match study::load(path) {
            Ok(s) => println!(
                "{}: ok ({} models, {} corpus file(s))",
                path.display(),
                s.models.len(),
                s.corpus.paths.len()
            ),
            Err(e) => {
                eprintln!("error: {:#}", anyhow::Error::from(e));
                invalid += 1;
            }
        }
    }
    match invalid {
        0 => Ok(()),
        n => Err(Failure::input(anyhow::anyhow!(
            "{n} of {} study file(s) are invalid",
            paths.len()
        ))),
    }
}

fn run(
    path: &Path,
    output: Option<&Path>,
    quiet: bool,
    offline: bool,
    no_cache: bool,
    features_from: Option<PathBuf>,
) -> Result<(), Failure> {
    let study = study::load(path).map_err(Failure::input)?;
    if features_from.is_none() {
        // A GPU that cannot be opened is bad input, said before any work.
        study.features.device.open().map_err(Failure::input)?;
    }
    let output = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("reports").join(&study.name));
    let mut progress = progress::Reporter::new(quiet);
    let summary = lossy::pipeline::run(
        &study,
        &output,
        &lossy::pipeline::RunOptions {
            offline,
            feature_cache: (!no_cache).then(lossy::features::cache::default_dir),
            features_from,
            from_shards: false,
        },
        &mut progress,
    )
    .with_context(|| format!("study {} failed", path.display()));
    progress.finish();
    let summary = summary.map_err(Failure::classify)?;
    println!("report: {}", summary.report_dir.display());
    Ok(())
}
