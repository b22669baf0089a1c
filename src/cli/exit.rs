//! Exit codes from typed errors: 2 when the input is at fault (a study,
//! model file, tokenizer, corpus, scores file, `.npy`, an id the hub does not
//! know), 1 for a failure while running (a forward pass, the network, the
//! disk). The innermost lossy error in the chain that knows which it is
//! decides; wrappers (a model's name, a study path) defer to their cause.
//! `#[error(transparent)]` variants hide the wrapped error from the chain
//! (their `source()` is the inner error's), so they are asked directly.

use lossy::corpus::chat::ChatError;
use lossy::corpus::preference::PreferenceError;
use lossy::corpus::{CorpusError, DatasetError};
use lossy::features::budget::BudgetError;
use lossy::features::estimator::{calibration::CalibrationError, EstimatorError};
use lossy::features::FeatureError;
use lossy::fit::study_fit::FitError;
use lossy::hub::HubError;
use lossy::io::npy::NpyError;
use lossy::models::hub_source::FetchError;
use lossy::models::{DeviceError, ModelError};
use lossy::pipeline::shard::ShardError;
use lossy::pipeline::RunError;
use lossy::report::OutputError;
use lossy::scores::ScoreError;
use lossy::study::StudyError;
use lossy::table::TableError;
use std::error::Error;

/// Bad input (`Some(true)`), a failure while running (`Some(false)`), or
/// "ask my cause" (`None`), for one error of the chain.
fn verdict(e: &(dyn Error + 'static)) -> Option<bool> {
    if e.is::<StudyError>()
        || e.is::<NpyError>()
        || e.is::<CalibrationError>()
        || e.is::<PreferenceError>()
        || e.is::<ChatError>()
        || e.is::<DeviceError>()
        || e.is::<BudgetError>()
        || e.is::<FitError>()
    {
        return Some(true);
    }
    if let Some(e) = e.downcast_ref::<RunError>() {
        return run_verdict(e);
    }
    input_verdict(e).or_else(|| stage_verdict(e))
}

/// Errors reading the inputs: the corpus, datasets, models and the hub.
fn input_verdict(e: &(dyn Error + 'static)) -> Option<bool> {
    if let Some(e) = e.downcast_ref::<CorpusError>() {
        return (!matches!(e, CorpusError::Dataset(_) | CorpusError::Tokenize(_))).then_some(true);
    }
    if let Some(e) = e.downcast_ref::<DatasetError>() {
        return match e {
            DatasetError::Hub(h) => verdict(h),
            _ => Some(true),
        };
    }
    if let Some(e) = e.downcast_ref::<ModelError>() {
        return Some(!matches!(e, ModelError::Forward(_)));
    }
    if let Some(e) = e.downcast_ref::<FetchError>() {
        return match e {
            FetchError::Hub(h) => verdict(h),
            _ => Some(true),
        };
    }
    if let Some(e) = e.downcast_ref::<HubError>() {
        return match e {
            HubError::Env(_) | HubError::NotFound { .. } | HubError::Unauthorized { .. } => {
                Some(true)
            }
            _ => Some(false),
        };
    }
    None
}

/// Errors of the stages: scores, tables, features, the estimator, the
/// report folder and shards.
fn stage_verdict(e: &(dyn Error + 'static)) -> Option<bool> {
    if let Some(e) = e.downcast_ref::<ScoreError>() {
        return match e {
            ScoreError::Hub(h) => verdict(h),
            ScoreError::Table(t) => verdict(t),
            _ => Some(true),
        };
    }
    if let Some(e) = e.downcast_ref::<TableError>() {
        return Some(!matches!(e, TableError::Write { .. }));
    }
    if let Some(e) = e.downcast_ref::<FeatureError>() {
        return match e {
            FeatureError::NoPositions { .. } => Some(true),
            FeatureError::Model(m) => verdict(m),
            _ => Some(false),
        };
    }
    if let Some(e) = e.downcast_ref::<EstimatorError>() {
        return match e {
            EstimatorError::Calibration(c) => verdict(c),
            _ => Some(true),
        };
    }
    if let Some(e) = e.downcast_ref::<OutputError>() {
        return Some(matches!(e, OutputError::NotAReport { .. }));
    }
    if let Some(e) = e.downcast_ref::<ShardError>() {
        return Some(e.is_bad_input());
    }
    None
}

/// A run's own errors; its transparent variants are not in the chain (the
/// wrapper's `source()` is the inner error's), so the inner error is asked.
fn run_verdict(e: &RunError) -> Option<bool> {
    match e {
        RunError::FeatureTable { .. }
        | RunError::MissingFeature { .. }
        | RunError::MissingScore { .. } => Some(true),
        RunError::Io { .. } | RunError::Figure(_) => Some(false),
        RunError::ProbeSet { source, .. } => verdict(source.as_ref()),
        RunError::Corpus(e) => verdict(e),
        RunError::Scores(e) => verdict(e),
        RunError::Hub(e) => verdict(e),
        RunError::Table(e) => verdict(e),
        RunError::Output(e) => verdict(e),
        RunError::Budget(e) => verdict(e),
        _ => None,
    }
}

/// Whether `error` is the input's fault: the innermost verdict in its chain.
pub fn is_bad_input(error: &anyhow::Error) -> bool {
    error.chain().filter_map(verdict).last().unwrap_or(false)
}
