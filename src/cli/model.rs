//! `lossy next-token` and `lossy hidden-states`: check a model quickly
//! (does it predict sensibly? what are its per-layer states?).

use super::choice::{self, ConventionArg, PrecisionArg};
use super::Failure;
use anyhow::anyhow;
use lossy::io::{atomic, npy};
use lossy::models::{
    tokenizer::Tokenizer, DeviceSpec, HiddenStates, LayerSink, Model, ModelFiles, Precision,
};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct NextTokenArgs {
    /// The model: a Hugging Face-layout folder, a .gguf file, or a hub id
    /// `org/name[@revision]` (fetched into the HF cache, as studies do).
    #[arg(long, value_name = "SPEC")]
    model: PathBuf,
    /// Use only the hub cache for a hub id (as HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// The prompt.
    #[arg(long)]
    text: String,
    /// How many of the most likely next tokens to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args)]
pub struct HiddenStatesArgs {
    /// The model: a Hugging Face-layout folder, a .gguf file, or a hub id
    /// `org/name[@revision]` (fetched into the HF cache, as studies do).
    #[arg(long, value_name = "SPEC")]
    model: PathBuf,
    /// Use only the hub cache for a hub id (as HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// The text to run.
    #[arg(long)]
    text: String,
    /// Output .npy: float32 [layers + 1, tokens, d].
    #[arg(long, value_name = "H.npy")]
    out: PathBuf,
    /// `hf` (output_hidden_states: last entry after the final norm) or `raw`.
    #[arg(long, value_enum, default_value = "hf")]
    convention: ConventionArg,
    #[command(flatten)]
    run: RunArgs,
}

/// How both commands run the model (the last options of each).
#[derive(clap::Args)]
pub struct RunArgs {
    /// Do not add the tokenizer's special tokens (e.g. BOS).
    #[arg(long)]
    no_special_tokens: bool,
    /// Compute precision.
    #[arg(long, value_enum, default_value = "f32")]
    precision: PrecisionArg,
    /// Compute device: `cpu`, or `cuda:N` on a build with the `cuda` feature
    /// (never falls back to the CPU).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    device: DeviceSpec,
}

/// A local folder or file as given; else a hub id `org/name[@revision]`,
/// fetched (or found) in the HF cache with the study's rules: the hub's
/// endpoint, token and offline settings from the environment.
fn model_dir(spec: &Path, offline: bool) -> Result<PathBuf, Failure> {
    let text = spec.to_string_lossy();
    let (id, revision) = text.split_once('@').unwrap_or((text.as_ref(), "main"));
    let hub_id = id.split('/').count() == 2
        && !id.starts_with(['.', '/'])
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if spec.exists() || !hub_id || revision.is_empty() {
        return Ok(spec.to_path_buf());
    }
    let hub = lossy::hub::Hub::from_env(offline).map_err(Failure::input)?;
    let fetched = lossy::models::hub_source::fetch(&hub, id, revision, true).map_err(|e| {
        Failure::classify(anyhow::Error::new(e).context(format!("model {id}@{revision}")))
    })?;
    eprintln!("{id}@{revision} is commit {}", fetched.resolved.sha);
    Ok(fetched.dir)
}

fn load(spec: &Path, offline: bool, run: &RunArgs) -> Result<(Model, Tokenizer), Failure> {
    let device = run.device.open().map_err(Failure::input)?;
    let dir = model_dir(spec, offline)?;
    let files = ModelFiles::locate(&dir).map_err(Failure::input)?;
    let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(Failure::input)?;
    let model =
        Model::load_as(files, &device, Precision::from(run.precision)).map_err(Failure::input)?;
    Ok((model, tokenizer))
}

fn encode(tok: &Tokenizer, text: &str, special: bool) -> Result<Vec<u32>, Failure> {
    let ids = tok.encode(text, special).map_err(Failure::input)?;
    if ids.is_empty() {
        return Err(Failure::input(anyhow!("the text tokenizes to no tokens")));
    }
    Ok(ids)
}

pub fn next_token(args: &NextTokenArgs) -> Result<(), Failure> {
    let (model, tok) = load(&args.model, args.offline, &args.run)?;
    let ids = encode(&tok, &args.text, !args.run.no_special_tokens)?;
    // A tokenizer that does not match the weights is bad input; a failing forward pass is not.
    let logits = model.last_logits(&ids).map_err(Failure::classify)?;
    // log-softmax in f64
    let max = logits.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let lse = max
        + logits
            .iter()
            .map(|&x| (x as f64 - max).exp())
            .sum::<f64>()
            .ln();
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    let top: Vec<serde_json::Value> = order
        .iter()
        .take(args.top)
        .map(|&i| {
            serde_json::json!({
                "id": i,
                "token": tok.decode(&[i as u32]).unwrap_or_default(),
                "logprob": logits[i] as f64 - lse,
            })
        })
        .collect();
    let out =
        serde_json::json!({ "model": args.model, "text": args.text, "input_ids": ids, "top": top });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    Ok(())
}

/// Collects every layer of a single sequence.
struct Collect {
    values: Vec<f32>,
    layers: usize,
}

impl LayerSink for Collect {
    fn layer(&mut self, _index: usize, hidden: &candle_core::Tensor) -> ControlFlow<()> {
        match hidden.flatten_all().and_then(|t| t.to_vec1::<f32>()) {
            Ok(v) => {
                self.values.extend(v);
                self.layers += 1;
                ControlFlow::Continue(())
            }
            Err(_) => ControlFlow::Break(()),
        }
    }
}

pub fn hidden_states(args: &HiddenStatesArgs) -> Result<(), Failure> {
    let (model, tok) = load(&args.model, args.offline, &args.run)?;
    let ids = encode(&tok, &args.text, !args.run.no_special_tokens)?;
    let mut sink = Collect {
        values: Vec::new(),
        layers: 0,
    };
    let complete = model
        .run(&[&ids], HiddenStates::from(args.convention), &mut sink)
        .map_err(Failure::classify)?;
    if !complete {
        return Err(Failure::running(anyhow!("reading hidden states failed")));
    }
    let shape = [sink.layers, ids.len(), model.hidden_size()];
    atomic::write(&args.out, &npy::encode_f32(&shape, &sink.values)).map_err(|e| {
        Failure::running(
            anyhow::Error::from(e).context(format!("cannot write {}", args.out.display())),
        )
    })?;
    println!(
        "{}: float32 {:?} (layers + 1, tokens, d), convention {}",
        args.out.display(),
        shape,
        choice::name(&args.convention)
    );
    Ok(())
}
