//! The forward-pass engine: packs a batch of token sequences one after
//! another (no padding, so no FLOP is spent on padding; attention and
//! positions work per sequence, no KV cache), runs the architecture's
//! decoder and streams each layer's hidden states to a [`LayerSink`] as soon
//! as the layer is computed, so a consumer can reduce a layer and drop it.
//! Memory stays O(tokens × d). A sequence gets the same bits in any batch as
//! alone.
//!
//! Hidden-state convention ([`HiddenStates`]):
//! - `hf` (default): as HF transformers' `output_hidden_states`: index 0 is
//!   the embedding output, index i the output of block i, and the last entry
//!   has the final norm applied. This is what the reference estimator saw.
//! - `raw`: index i is always the raw output of block i (no final norm).

use super::config::ModelConfig;
use super::decoder::Decoder;
use super::{arch, ModelError, ModelFiles, WeightFormat};
use candle_core::{DType, Device, Tensor};
use lossy_base::math::exp::exp_in_place;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HiddenStates {
    #[default]
    Hf,
    Raw,
}

/// The floating-point precision a model computes in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32: the default, and what parity with transformers is tested in.
    #[default]
    F32,
    Bf16,
    F16,
}

impl Precision {
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F16 => DType::F16,
        }
    }
}

/// Receives hidden states layer by layer.
pub trait LayerSink {
    /// `index` 0 is the embedding output, 1..=L the blocks. `hidden` is
    /// `[tokens, d]` f32: the batch's sequences one after another, in the
    /// order given to [`Model::run`], with no padding (sequence r starts at
    /// row `len_0 + … + len_{r−1}`).
    /// Return `Break` to stop the forward pass (the sink keeps its error).
    fn layer(&mut self, index: usize, hidden: &Tensor) -> ControlFlow<()>;
}

/// A loaded model, ready to run.
pub struct Model {
    pub config: ModelConfig,
    pub files: ModelFiles,
    device: Device,
    decoder: Decoder,
}

impl Model {
    /// Loads a model to compute in f32 (the default and the reference).
    pub fn load(files: ModelFiles, device: &Device) -> Result<Self, ModelError> {
        Self::load_as(files, device, Precision::F32)
    }

    /// Loads a model to compute in `precision`; hidden states are handed to
    /// sinks as f32 whatever the precision.
    pub fn load_as(
        files: ModelFiles,
        device: &Device,
        precision: Precision,
    ) -> Result<Self, ModelError> {
        let dtype = precision.dtype();
        if files.format == WeightFormat::Gguf {
            let (config, vb, quantized) = super::gguf::load(&files.config, device, dtype)?;
            let decoder =
                arch::gguf_decoder(&config, vb, quantized).map_err(|e| ModelError::Load {
                    dir: files.config.clone(),
                    source: super::error::bare(e),
                })?;
            return Ok(Self {
                config,
                files,
                device: device.clone(),
                decoder,
            });
        }
        let config = ModelConfig::from_file(&files.config)?;
        let dir = files
            .config
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        let weights_err = |e: candle_core::Error| ModelError::Load {
            dir: dir.clone(),
            source: super::error::bare(e),
        };
        let vb = match files.format {
            WeightFormat::Safetensors => {
                check_safetensors(&files)?;
                // SAFETY: the files are memory-mapped read-only; lossy never
                // writes to model files while they are mapped.
                unsafe {
                    candle_nn::VarBuilder::from_mmaped_safetensors(&files.weights, dtype, device)
                }
                .map_err(weights_err)?
            }
            WeightFormat::Gguf => unreachable!("handled above"),
            WeightFormat::PytorchBin => {
                let path = &files.weights[0];
                candle_nn::VarBuilder::from_pth(path, dtype, device).map_err(|e| {
                    ModelError::Corrupt {
                        path: path.clone(),
                        reason: super::error::bare(e).to_string(),
                    }
                })?
            }
        };
        let arch = arch::find(&config.model_type).expect("config parsing checked the model type");
        let decoder = (arch.load)(&config, vb).map_err(weights_err)?;
        Ok(Self {
            config,
            files,
            device: device.clone(),
            decoder,
        })
    }

    /// Number of transformer blocks L (hidden states have L + 1 entries).
    pub fn num_layers(&self) -> usize {
        self.config.num_layers
    }

    pub fn hidden_size(&self) -> usize {
        self.config.hidden_size
    }

    /// Every id must index the embedding table (a mismatched tokenizer
    /// would otherwise fail deep inside an index-select).
    fn check_ids(&self, seqs: &[&[u32]]) -> Result<(), ModelError> {
        let vocab = self.config.vocab_size;
        match seqs
            .iter()
            .flat_map(|s| s.iter())
            .find(|&&id| id as usize >= vocab)
        {
            Some(&id) => Err(ModelError::TokenOutOfVocab {
                id,
                vocab,
                tokenizer: self.files.tokenizer.clone(),
                config: self.files.config.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Runs one batch of sequences (any lengths ≥ 1), streaming layers to
    /// `sink`. Returns `Ok(false)` if the sink stopped the pass.
    pub fn run(
        &self,
        seqs: &[&[u32]],
        convention: HiddenStates,
        sink: &mut dyn LayerSink,
    ) -> Result<bool, ModelError> {
        self.check_ids(seqs)?;
        let batch = Batch::new(seqs, &self.device, self.config.learned_positions)?;
        let ctx = self.decoder.context(&batch.lengths, &self.device)?;
        let mut x = self.decoder.embed(&batch.ids, &ctx)?;
        let rows = |x: &Tensor| x.squeeze(0)?.to_dtype(DType::F32);
        if sink.layer(0, &rows(&x)?).is_break() {
            return Ok(false);
        }
        let last = self.config.num_layers;
        for i in 0..last {
            x = self.decoder.block(i, &x, &ctx)?;
            let shown = if i + 1 == last && convention == HiddenStates::Hf {
                self.decoder.final_norm.forward(&x)?
            } else {
                x.clone()
            };
            if sink.layer(i + 1, &rows(&shown)?).is_break() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Logits of the last token of one sequence (for checks such as
    /// next-token prediction).
    pub fn last_logits(&self, seq: &[u32]) -> Result<Vec<f32>, ModelError> {
        self.check_ids(&[seq])?;
        let batch = Batch::new(&[seq], &self.device, self.config.learned_positions)?;
        let ctx = self.decoder.context(&batch.lengths, &self.device)?;
        let mut x = self.decoder.embed(&batch.ids, &ctx)?;
        for i in 0..self.config.num_layers {
            x = self.decoder.block(i, &x, &ctx)?;
        }
        let last = x.narrow(1, seq.len() - 1, 1)?;
        Ok(self
            .decoder
            .logits(&last)?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?)
    }
}

/// Numerically safe log-softmax value of entry `target` of one row of logits,
/// computed in f64. `scratch` holds the row's exponentials: the vectorised
/// [`exp_in_place`] (within 2 ulp of libm's) takes them all at once, a third
/// of the LM loss's time with libm's scalar `exp` over a 49k vocabulary.
fn log_prob(logits: &[f32], target: usize, scratch: &mut Vec<f64>) -> f64 {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
    scratch.clear();
    scratch.extend(logits.iter().map(|&x| x as f64 - max));
    exp_in_place(scratch);
    let sum: f64 = scratch.iter().sum();
    logits[target] as f64 - max - sum.ln()
}

impl Model {
    /// Negative log-likelihood (nats) of each `targets[r]` given row r of
    /// `rows` (`[n, d]`, f32): a last hidden state as a [`LayerSink`] saw it
    /// under `convention` (with the final norm already applied under `hf`,
    /// without it under `raw`). Applies the final norm where needed, the LM
    /// head and its soft-capping, then a log-softmax in f64. Kept apart from
    /// [`Model::run`] so a caller can score the rows it gathered anyway.
    pub fn next_token_nll(
        &self,
        rows: &Tensor,
        targets: &[u32],
        convention: HiddenStates,
    ) -> Result<Vec<f64>, ModelError> {
        let x = rows.to_dtype(self.decoder.embed.embeddings().dtype())?;
        let normed = match convention {
            HiddenStates::Hf => x,
            HiddenStates::Raw => self.decoder.final_norm.forward(&x)?,
        };
        let logits: Vec<f32> = self
            .decoder
            .head(&normed)?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?;
        let vocab = logits.len() / targets.len().max(1);
        // rows on every core (each row's value alone: the same bits in any order)
        targets
            .par_iter()
            .enumerate()
            .map_init(
                || Vec::with_capacity(vocab),
                |scratch, (r, &t)| {
                    let row = &logits[r * vocab..(r + 1) * vocab];
                    match row.get(t as usize) {
                        Some(_) => Ok(-log_prob(row, t as usize, scratch)),
                        None => Err(ModelError::TokenOutOfRange { token: t, vocab }),
                    }
                },
            )
            .collect()
    }
}

/// Token ids packed one sequence after another as `[1, tokens]`, with each
/// sequence's length.
pub struct Batch {
    pub ids: Tensor,
    pub lengths: Vec<usize>,
}

impl Batch {
    pub fn new(
        seqs: &[&[u32]],
        device: &Device,
        max_positions: Option<usize>,
    ) -> Result<Self, ModelError> {
        if seqs.is_empty() || seqs.iter().any(|s| s.is_empty()) {
            return Err(ModelError::EmptySequence);
        }
        let t = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if let Some(max) = max_positions.filter(|&m| t > m) {
            return Err(ModelError::TooLong { tokens: t, max });
        }
        let ids: Vec<u32> = seqs.concat();
        let n = ids.len();
        Ok(Self {
            ids: Tensor::from_vec(ids, (1, n), device)?,
            lengths: seqs.iter().map(|s| s.len()).collect(),
        })
    }
}

/// Checks each safetensors file's header against its size before mapping
/// it, so a truncated or corrupt file gets an error naming the file.
fn check_safetensors(files: &ModelFiles) -> Result<(), ModelError> {
    use std::io::Read;
    for path in &files.weights {
        let corrupt = |reason: String| ModelError::Corrupt {
            path: path.clone(),
            reason,
        };
        let io = |source| ModelError::Io {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut len = [0u8; 8];
        file.read_exact(&mut len)
            .map_err(|_| corrupt("shorter than a safetensors header".into()))?;
        let header_len = u64::from_le_bytes(len);
        if header_len > size.saturating_sub(8) || header_len > 100_000_000 {
            return Err(corrupt(format!(
                "header claims {header_len} bytes but the file has {size}"
            )));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header).map_err(io)?;
        let json: serde_json::Value = serde_json::from_slice(&header)
            .map_err(|e| corrupt(format!("header is not valid JSON: {e}")))?;
        let data_len = size - 8 - header_len;
        let needed = json
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(_, t)| t.get("data_offsets")?.get(1)?.as_u64())
            .max()
            .unwrap_or(0);
        if needed > data_len {
            return Err(corrupt(format!("tensor data needs {needed} bytes but only {data_len} are present (truncated download?)")));
        }
        check_float_dtypes(path, &json)?;
    }
    Ok(())
}

/// Weights must be floats: an integer (or fp8) tensor would be cast to the
/// compute precision and used as if it held weights.
fn check_float_dtypes(
    path: &std::path::Path,
    header: &serde_json::Value,
) -> Result<(), ModelError> {
    const FLOATS: [&str; 4] = ["F32", "F16", "BF16", "F64"];
    let tensors = header.as_object().into_iter().flatten();
    for (name, t) in tensors.filter(|(name, _)| name.as_str() != "__metadata__") {
        let dtype = t.get("dtype").and_then(|d| d.as_str()).unwrap_or("");
        if !FLOATS.contains(&dtype) {
            return Err(ModelError::WeightDtype {
                path: path.into(),
                tensor: name.clone(),
                dtype: dtype.into(),
            });
        }
    }
    Ok(())
}
