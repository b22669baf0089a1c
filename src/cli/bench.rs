//! `lossy bench-forward` (hidden): times the forward pass with per-layer
//! capture on fixed token ids, for `scripts/bench_engine.py`, and measures
//! this machine's f32 GEMM rate with the same matmul kernels.

use super::choice::{self, PrecisionArg};
use super::Failure;
use anyhow::anyhow;
use candle_core::{Device, Tensor};
use lossy::io::npy;
use lossy::models::{DeviceSpec, HiddenStates, LayerSink, Model, ModelFiles, Precision};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The model: a Hugging Face-layout folder or a .gguf file.
    #[arg(long)]
    model: PathBuf,
    /// Token ids, int [batch, tokens] (.npy).
    #[arg(long)]
    ids: PathBuf,
    /// Timed repetitions (the best is reported).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Compute device (`cpu`, `cuda:N`), for scripts/gpu_check.py.
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Compute precision.
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
}

/// Copies each layer to host memory, as the features stage does.
struct ToHost(usize);

impl LayerSink for ToHost {
    fn layer(&mut self, _: usize, hidden: &Tensor) -> ControlFlow<()> {
        match hidden.flatten_all().and_then(|t| t.to_vec1::<f32>()) {
            Ok(v) => {
                self.0 += v.len();
                ControlFlow::Continue(())
            }
            Err(_) => ControlFlow::Break(()),
        }
    }
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let device = args.device.open().map_err(Failure::input)?;
    let model = Model::load_as(
        ModelFiles::locate(&args.model).map_err(Failure::input)?,
        &device,
        Precision::from(args.precision),
    )
    .map_err(Failure::input)?;
    let ids = npy::read(&args.ids).map_err(Failure::input)?;
    let (b, t) = match ids.shape[..] {
        [b, t] => (b, t),
        _ => return Err(Failure::input(anyhow!("--ids must be [batch, tokens]"))),
    };
    let flat: Vec<u32> = ids
        .as_ints()
        .ok_or_else(|| Failure::input(anyhow!("--ids must be integers")))?
        .iter()
        .map(|&x| x as u32)
        .collect();
    let seqs: Vec<&[u32]> = flat.chunks(t).collect();
    let mut best = f64::INFINITY;
    for _ in 0..args.repeats.max(1) {
        let start = Instant::now();
        let mut sink = ToHost(0);
        model
            .run(&seqs, HiddenStates::Hf, &mut sink)
            .map_err(Failure::running)?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    // The CPU's GEMM rate puts a CPU run in context; a GPU run skips it.
    let gemm = match args.device {
        DeviceSpec::Cpu => Some(gemm_gflops().map_err(Failure::running)?),
        DeviceSpec::Cuda(_) => None,
    };
    let tokens = b * t;
    let params = model.config.non_embedding_params();
    let out = serde_json::json!({
        "seconds": best,
        "tokens": tokens,
        "tokens_per_s": tokens as f64 / best,
        "non_embedding_params": params,
        "gflops": 2.0 * params as f64 * tokens as f64 / best / 1e9,
        "gemm_gflops_f32_1024": gemm,
        "threads": rayon::current_num_threads(),
        "device": args.device.to_string(),
        "precision": choice::name(&args.precision),
    });
    println!("{out}");
    Ok(())
}

/// Best-of-5 f32 GEMM rate (1024 × 1024 × 1024) through candle.
fn gemm_gflops() -> candle_core::Result<f64> {
    let n = 1024;
    let a = Tensor::randn(0f32, 1.0, (n, n), &Device::Cpu)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), &Device::Cpu)?;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let c = a.matmul(&b)?;
        c.sum_all()?.to_scalar::<f32>()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n * n * n) as f64 / best / 1e9)
}
