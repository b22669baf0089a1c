//! `lossy estimate`: soft entropy of arbitrary embeddings from `.npy` files,
//! printed as JSON (the reference accumulator's functional API).

use super::choice::CalibrationArg;
use super::Failure;
use anyhow::anyhow;
use lossy::features::estimator::arrays::{
    self, estimate_arrays, ArraysError, ArraysOptions, LabelArray, Rows,
};
use lossy::features::estimator::{Calibration, EstimatorError, EstimatorParams};
use lossy::io::npy;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Embeddings Z: an N × d float32 or float64 array.
    #[arg(long, value_name = "Z.npy")]
    embeddings: PathBuf,
    /// A label set NAME=L.npy: N integers, or an N × k integer array whose
    /// rows are tuple labels. Repeat for several sets.
    #[arg(long = "labels", value_name = "NAME=L.npy")]
    labels: Vec<String>,
    /// Reference points W (m × d) to use instead of generating them.
    #[arg(long, value_name = "W.npy")]
    reference_points: Option<PathBuf>,
    /// Number of reference points m (ignored with --reference-points).
    #[arg(long, default_value_t = 100)]
    bins: usize,
    /// Seed of the generated reference points.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Temperature calibration.
    #[arg(long, value_enum, default_value = "find-eps")]
    calibration: CalibrationArg,
    /// Also report each MI with the labels shuffled (seeded), the estimator's bias.
    #[arg(long, value_name = "SEED", num_args = 0..=1, default_missing_value = "0")]
    null: Option<u64>,
    /// Pool labels seen fewer than N times into one label (reduces the
    /// upward bias of sparse labels).
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_count: u64,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    // Z is streamed in batches, so it may be larger than memory.
    let reader = npy::RowReader::open(&args.embeddings).map_err(|e| match e {
        npy::NpyError::Dtype { .. } => Failure::input(anyhow!(
            "{}: embeddings must be float32 or float64",
            args.embeddings.display()
        )),
        e => Failure::input(e),
    })?;
    let shape = reader.header.shape.clone();
    if shape.len() != 2 {
        return Err(Failure::input(anyhow!(
            "{}: embeddings must be a 2-D array (N × d); got shape {shape:?}",
            args.embeddings.display()
        )));
    }
    let (rows, d) = (shape[0], shape[1]);
    let mut labels = Vec::new();
    for spec in &args.labels {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| Failure::input(anyhow!("--labels takes NAME=PATH, got `{spec}`")))?;
        let arr = npy::read(std::path::Path::new(path)).map_err(Failure::input)?;
        let ints = arr
            .as_ints()
            .ok_or_else(|| Failure::input(anyhow!("{path}: labels must be integers")))?;
        let width = match arr.shape.len() {
            1 => 1,
            2 => arr.shape[1],
            _ => {
                return Err(Failure::input(anyhow!(
                    "{path}: labels must be 1-D (N) or 2-D (N × k); got shape {:?}",
                    arr.shape
                )))
            }
        };
        labels.push(LabelArray {
            name: name.to_string(),
            values: ints.to_vec(),
            width: width.max(1),
        });
    }
    let params = EstimatorParams {
        bins: args.bins,
        seed: args.seed,
        calibration: Calibration::from(args.calibration),
        reference_points: args.reference_points.clone(),
    };
    let opts = ArraysOptions {
        null_seed: args.null,
        min_count: args.min_count,
    };
    // A little-endian f32 file is mapped and read in place; anything else is
    // read batch by batch on another thread while this one computes.
    let report = match reader.map().map_err(Failure::input)? {
        Some(mapped) => estimate_arrays(Rows::Mapped(&mapped), rows, d, &labels, &params, &opts),
        None => {
            let mut prefetch = npy::Prefetch::new(reader, arrays::BATCH);
            let mut source = |_max: usize, out: &mut Vec<f32>| {
                prefetch
                    .next_into(out)
                    .map(|values| values / d.max(1))
                    .map_err(ArraysError::from)
            };
            estimate_arrays(Rows::Stream(&mut source), rows, d, &labels, &params, &opts)
        }
    }
    .map_err(|e| {
        let what = blame(&e, args);
        Failure::input(match what {
            Some(what) => anyhow::Error::new(e).context(what),
            None => anyhow::Error::new(e),
        })
    })?;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report serialises")
    );
    Ok(())
}

/// The file or option an estimation error is about, when its message does
/// not name it already.
fn blame(e: &ArraysError, args: &Args) -> Option<String> {
    let embeddings = args.embeddings.display().to_string();
    match e {
        ArraysError::Empty | ArraysError::Read(_) | ArraysError::Accumulate(_) => Some(embeddings),
        ArraysError::LabelRows { name, .. } => args
            .labels
            .iter()
            .filter_map(|spec| spec.split_once('='))
            .find(|(n, _)| n == name)
            .map(|(_, path)| path.to_string()),
        ArraysError::DuplicateName(_) => Some("--labels".into()),
        ArraysError::Estimator(EstimatorError::ReferencePoints(_)) => None,
        ArraysError::Estimator(EstimatorError::ZeroWidth) => Some(embeddings),
        ArraysError::Estimator(EstimatorError::Calibration(
            lossy::features::estimator::calibration::CalibrationError::DimensionTooSmall(_),
        )) => Some(format!(
            "{embeddings} with --calibration {}",
            super::choice::name(&args.calibration)
        )),
        ArraysError::Estimator(_) => Some("--bins".into()),
    }
}
