//! GGUF model files (llama.cpp's format): one `.gguf` holds the config (as
//! metadata), the tokenizer (rebuilt by the `gguf_tokenizer` module) and the
//! weights.
//!
//! lossy runs a GGUF model through its own forward pass with the numbers HF
//! transformers gives after dequantizing the file to f32. On the CPU the
//! projection weights stay in their block format and are dequantized tile
//! by tile inside each matmul ([`super::quantized`]), so memory stays near
//! the file's size; activations stay f32. Other tensors (embeddings, norms,
//! biases), and every tensor on a GPU, are dequantized at load.
//!
//! The tensors are renamed to the Hugging Face names the forward pass asks
//! for (`blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight`, …),
//! and for the `llama` architecture the rows of q and k are un-permuted: the
//! llama.cpp converter reorders them for its interleaved ("adjacent pairs")
//! rotary form, while lossy uses the half-split (`rotate_half`) form of
//! transformers. `qwen2` files are converted without that permutation.
//!
//! Supported architectures: `llama` (Llama 2/3.x, SmolLM/SmolLM2, Mistral)
//! and `qwen2`.

use super::config::{ModelConfig, RopeScaling, Shape};
use super::quantized::QuantizedWeight;
use super::ModelError;
use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

/// GGUF `general.architecture` values lossy runs.
pub const SUPPORTED_ARCHS: &[&str] = &["llama", "qwen2"];

/// Whether `path` names a GGUF file (by its extension).
pub fn is_gguf(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
}

/// A parsed GGUF header (metadata and tensor directory; no tensor data).
pub struct GgufFile {
    pub path: PathBuf,
    pub content: Content,
    pub file_size: u64,
}

impl GgufFile {
    /// Reads and checks the header: the magic, the metadata, and that every
    /// tensor's data lies inside the file (so a truncated download is named
    /// here, not half-way through loading).
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let io = |source| ModelError::Io {
            path: path.into(),
            source,
        };
        let corrupt = |reason: String| ModelError::Corrupt {
            path: path.into(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let file_size = file.metadata().map_err(io)?.len();
        let mut reader = BufReader::new(file);
        let mut magic = [0u8; 4];
        reader.read_exact(&mut magic).map_err(|_| {
            corrupt(format!(
                "only {file_size} bytes, shorter than a GGUF header"
            ))
        })?;
        if &magic != b"GGUF" {
            return Err(corrupt(format!(
                "not a GGUF file: it starts with {magic:02x?}, not the magic \"GGUF\""
            )));
        }
        reader.rewind().map_err(io)?;
        let content = Content::read(&mut reader)
            .map_err(|e| corrupt(format!("cannot parse the GGUF header: {}", plain(e))))?;
        for (name, info) in &content.tensor_infos {
            let block = info.ggml_dtype.block_size();
            // Checked: the shape comes from the file.
            let elems = info
                .shape
                .dims()
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .ok_or_else(|| {
                    corrupt(format!(
                        "tensor `{name}` has shape {:?}, more elements than fit in memory",
                        info.shape.dims()
                    ))
                })?;
            if elems % block != 0 {
                return Err(corrupt(format!("tensor `{name}` has {elems} elements, not a multiple of its block size {block}")));
            }
            let bytes = (elems / block)
                .checked_mul(info.ggml_dtype.type_size())
                .map_or(u64::MAX, |b| b as u64);
            let end = content
                .tensor_data_offset
                .saturating_add(info.offset)
                .saturating_add(bytes);
            if end > file_size {
                return Err(corrupt(format!(
                    "tensor `{name}` needs bytes up to {end} but the file has only {file_size} (truncated download?)"
                )));
            }
        }
        Ok(Self {
            path: path.into(),
            content,
            file_size,
        })
    }

    pub fn metadata(&self) -> &HashMap<String, Value> {
        &self.content.metadata
    }

    /// `general.architecture`.
    pub fn architecture(&self) -> Result<&str, ModelError> {
        meta_str(&self.path, self.metadata(), "general.architecture")
    }

    fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }
}

/// Loads a GGUF model: its config, a `VarBuilder` over the dequantized
/// tensors under Hugging Face names, and (on the CPU) the quantized
/// projection weights under theirs, for the llama-layout decoder.
pub(crate) fn load(
    path: &Path,
    device: &Device,
    dtype: DType,
) -> Result<
    (
        ModelConfig,
        VarBuilder<'static>,
        HashMap<String, QuantizedWeight>,
    ),
    ModelError,
> {
    let gguf = GgufFile::open(path)?;
    let mut config = ModelConfig::from_gguf(&gguf)?;
    let (tensors, quantized) = load_tensors(&gguf, &mut config, device)?;
    let tensors = tensors
        .into_iter()
        .map(|(k, t)| t.to_dtype(dtype).map(|t| (k, t)))
        .collect::<candle_core::Result<HashMap<_, _>>>()
        .map_err(|e| ModelError::Load {
            dir: path.into(),
            source: super::error::bare(e),
        })?;
    Ok((
        config,
        VarBuilder::from_tensors(tensors, dtype, device),
        quantized,
    ))
}

/// Whether a (Hugging Face) tensor name is a projection weight, kept
/// quantized on the CPU.
fn is_projection(hf: &str) -> bool {
    hf.ends_with("_proj.weight") || hf == "lm_head.weight"
}

/// The `{arch}.*` metadata of a GGUF file, read with errors that name the
/// file and key.
struct ArchMeta<'a> {
    gguf: &'a GgufFile,
    arch: &'a str,
}

impl ArchMeta<'_> {
    fn key(&self, k: &str) -> String {
        format!("{}.{k}", self.arch)
    }

    fn bad(&self, reason: String) -> ModelError {
        ModelError::Config {
            path: self.gguf.path.clone(),
            reason,
        }
    }

    fn opt_usize(&self, k: &str) -> Result<Option<usize>, ModelError> {
        let key = self.key(k);
        match self.gguf.metadata().get(&key) {
            None => Ok(None),
            Some(Value::Array(_)) => Err(self.bad(format!(
                "`{key}` is a per-layer array; only one value for all layers is supported"
            ))),
            Some(v) => as_f64(v)
                .filter(|x| *x >= 0.0 && x.fract() == 0.0)
                .map(|x| Some(x as usize))
                .ok_or_else(|| {
                    self.bad(format!(
                        "`{key}` should be a non-negative integer, found {v:?}"
                    ))
                }),
        }
    }

    fn req_usize(&self, k: &str) -> Result<usize, ModelError> {
        self.opt_usize(k)?
            .ok_or_else(|| self.bad(format!("metadata `{}` is missing", self.key(k))))
    }

    fn opt_f64(&self, k: &str) -> Result<Option<f64>, ModelError> {
        let key = self.key(k);
        self.gguf
            .metadata()
            .get(&key)
            .map(|v| {
                as_f64(v)
                    .ok_or_else(|| self.bad(format!("`{key}` should be a number, found {v:?}")))
            })
            .transpose()
    }

    /// Heads, key/value heads and the head dimension, checked against what
    /// lossy's forward pass supports (full rotary, equal key/value widths).
    fn heads(&self, hidden_size: usize) -> Result<(usize, usize, usize), ModelError> {
        let num_heads = self.req_usize("attention.head_count")?;
        let num_kv_heads = self
            .opt_usize("attention.head_count_kv")?
            .unwrap_or(num_heads);
        if num_heads == 0 || num_kv_heads == 0 || num_heads % num_kv_heads != 0 {
            return Err(self.bad(format!("head_count ({num_heads}) must be a positive multiple of head_count_kv ({num_kv_heads})")));
        }
        let head_dim = self
            .opt_usize("attention.key_length")?
            .unwrap_or(hidden_size / num_heads);
        if let Some(v) = self.opt_usize("attention.value_length")? {
            if v != head_dim {
                return Err(self.bad(format!(
                    "attention.value_length {v} differs from key_length {head_dim}; not supported"
                )));
            }
        }
        if head_dim == 0 || head_dim % 2 != 0 {
            return Err(self.bad(format!(
                "head dimension {head_dim} must be even for rotary embeddings"
            )));
        }
        if let Some(rot) = self.opt_usize("rope.dimension_count")? {
            if rot != head_dim {
                return Err(self.bad(format!("partial rotary (rope.dimension_count {rot} < head dim {head_dim}) is not supported")));
            }
        }
        Ok((num_heads, num_kv_heads, head_dim))
    }

    /// The rotary scaling of the metadata (a `rope_freqs.weight` tensor is
    /// applied later, by [`load_tensors`]).
    fn rope_scaling(&self) -> Result<RopeScaling, ModelError> {
        let kind = self
            .gguf
            .metadata()
            .get(&self.key("rope.scaling.type"))
            .map(|v| v.to_string().map(String::as_str));
        Ok(match kind {
            None | Some(Ok("none")) => match self.opt_f64("rope.scale_linear")? {
                Some(f) if f != 1.0 => RopeScaling::Linear { factor: f },
                _ => RopeScaling::None,
            },
            Some(Ok("linear")) => RopeScaling::Linear {
                factor: self.opt_f64("rope.scaling.factor")?.ok_or_else(|| {
                    self.bad(format!("`{}` is missing", self.key("rope.scaling.factor")))
                })?,
            },
            Some(Ok(other)) => {
                return Err(self.bad(format!("rope scaling type `{other}` is not supported (supported: none, linear, llama3 rope_freqs)")))
            }
            Some(Err(_)) => {
                return Err(self.bad(format!(
                    "`{}` should be a string",
                    self.key("rope.scaling.type")
                )))
            }
        })
    }

    /// The vocabulary size: the token list's length, else `vocab_size`,
    /// else the embedding's rows; checked against the embedding's shape.
    fn vocab_size(&self, hidden_size: usize) -> Result<usize, ModelError> {
        let infos = &self.gguf.content.tensor_infos;
        let tokens = self
            .gguf
            .metadata()
            .get("tokenizer.ggml.tokens")
            .and_then(|v| v.to_vec().ok())
            .map(Vec::len);
        let vocab_size = match (tokens, self.opt_usize("vocab_size")?) {
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => infos
                .get("token_embd.weight")
                .map(|t| t.shape.dims()[0])
                .ok_or_else(|| self.bad("no `tokenizer.ggml.tokens`, `vocab_size` or `token_embd.weight` to size the vocabulary".into()))?,
        };
        if let Some(t) = infos.get("token_embd.weight") {
            if t.shape.dims() != [vocab_size, hidden_size] {
                return Err(self.bad(format!(
                    "token_embd.weight has shape {:?}, expected [{vocab_size}, {hidden_size}] (vocabulary × embedding_length)",
                    t.shape.dims()
                )));
            }
        }
        Ok(vocab_size)
    }
}

impl ModelConfig {
    /// The config of a GGUF model, from its `{arch}.*` metadata, the token
    /// list (vocabulary size) and which tensors it has (biases, LM head).
    /// A `rope_freqs.weight` tensor (Llama 3.1+ rope scaling) is applied by
    /// [`load`], which reads tensor data.
    pub fn from_gguf(gguf: &GgufFile) -> Result<Self, ModelError> {
        let arch = gguf.architecture()?;
        if !SUPPORTED_ARCHS.contains(&arch) {
            return Err(ModelError::Unsupported {
                path: gguf.path.clone(),
                model_type: arch.into(),
                supported: SUPPORTED_ARCHS.join(", "),
            });
        }
        let meta = ArchMeta { gguf, arch };
        let num_layers = meta.req_usize("block_count")?;
        let hidden_size = meta.req_usize("embedding_length")?;
        let intermediate_size = meta.req_usize("feed_forward_length")?;
        let (num_heads, num_kv_heads, head_dim) = meta.heads(hidden_size)?;
        let rms_norm_eps = meta
            .opt_f64("attention.layer_norm_rms_epsilon")?
            .ok_or_else(|| {
                meta.bad(format!(
                    "metadata `{}` is missing (only RMSNorm models are supported)",
                    meta.key("attention.layer_norm_rms_epsilon")
                ))
            })?;
        let rope_theta = meta.opt_f64("rope.freq_base")?.unwrap_or(10000.0);
        let rope_scaling = meta.rope_scaling()?;
        let shape = Shape {
            vocab_size: meta.vocab_size(hidden_size)?,
            hidden_size,
            intermediate_size,
            num_layers,
            num_heads,
            num_kv_heads,
            head_dim,
        };
        let mut cfg = ModelConfig::llama_like(arch, shape);
        cfg.norm_eps = rms_norm_eps;
        cfg.rope_theta = rope_theta;
        cfg.rope_scaling = rope_scaling;
        cfg.tie_word_embeddings = !gguf.has_tensor("output.weight");
        cfg.attention_bias = gguf.has_tensor("blk.0.attn_q.bias");
        cfg.attention_out_bias = gguf.has_tensor("blk.0.attn_output.bias");
        cfg.mlp_bias = gguf.has_tensor("blk.0.ffn_up.bias");
        Ok(cfg)
    }
}

/// The Hugging Face name of a GGUF tensor, or `None` for a name lossy does
/// not know.
pub fn hf_name(gguf_name: &str) -> Option<String> {
    let fixed = match gguf_name {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(n) = fixed {
        return Some(n.into());
    }
    let rest = gguf_name.strip_prefix("blk.")?;
    let (layer, rest) = rest.split_once('.')?;
    layer.parse::<usize>().ok()?;
    let (part, kind) = rest.rsplit_once('.')?;
    if kind != "weight" && kind != "bias" {
        return None;
    }
    let hf = match part {
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf}.{kind}"))
}

/// Undoes llama.cpp's q/k row permutation (`LlamaModel.permute` in
/// `convert_hf_to_gguf.py`), which turns each head's half-split rotary layout
/// into adjacent pairs: the converter views the rows as
/// `[heads, 2, head_dim/2]` and swaps the last two axes. Here the rows are
/// viewed as `[heads, head_dim/2, 2]` and swapped back. Works on weights
/// `[heads·head_dim, in]` and biases `[heads·head_dim]`.
pub fn unpermute_qk(t: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
    let dims = t.dims().to_vec();
    let rows = dims[0];
    if heads == 0 || rows % (2 * heads) != 0 {
        candle_core::bail!("cannot un-permute {rows} rows into {heads} heads of even width");
    }
    let half = rows / heads / 2;
    let mut view = vec![heads, half, 2];
    view.extend_from_slice(&dims[1..]);
    t.reshape(view)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(dims)
}

/// The inverse of [`unpermute_qk`]: llama.cpp's permutation itself (for tests).
pub fn permute_qk(t: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
    let dims = t.dims().to_vec();
    let rows = dims[0];
    if heads == 0 || rows % (2 * heads) != 0 {
        candle_core::bail!("cannot permute {rows} rows into {heads} heads of even width");
    }
    let half = rows / heads / 2;
    let mut view = vec![heads, 2, half];
    view.extend_from_slice(&dims[1..]);
    t.reshape(view)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(dims)
}

/// Reads every tensor and renames it to its Hugging Face name (un-permuting
/// llama's q/k rows): projection weights on the CPU stay quantized, the
/// rest is dequantized to f32 on `device`. Applies a `rope_freqs.weight`
/// tensor to `config.rope_scaling`.
#[allow(clippy::type_complexity)]
fn load_tensors(
    gguf: &GgufFile,
    config: &mut ModelConfig,
    device: &Device,
) -> Result<(HashMap<String, Tensor>, HashMap<String, QuantizedWeight>), ModelError> {
    let path = &gguf.path;
    let weights = |reason: String| ModelError::Weights {
        dir: path.clone(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.clone(),
        source,
    })?;
    let mut reader = BufReader::new(file);
    let permuted = config.model_type == "llama";
    let mut names: Vec<&String> = gguf.content.tensor_infos.keys().collect();
    names.sort();
    let mut out = HashMap::with_capacity(names.len());
    let mut quantized = HashMap::new();
    for name in names {
        let failed = |e: candle_core::Error| ModelError::Tensor {
            path: path.clone(),
            tensor: name.clone(),
            source: super::error::bare(e),
        };
        let q = gguf
            .content
            .tensor(&mut reader, name, &Device::Cpu)
            .map_err(failed)?;
        if name == "rope_freqs.weight" {
            config.rope_scaling = rope_freqs(&q, config).map_err(|e| match e {
                Ok(reason) => weights(format!("{name} {reason}")),
                Err(e) => failed(e),
            })?;
            continue;
        }
        let Some(hf) = hf_name(name) else {
            return Err(weights(format!(
                "tensor `{name}` has no place in lossy's {} forward pass (unsupported GGUF layout)",
                config.model_type
            )));
        };
        let heads = if !permuted {
            None
        } else if hf.contains(".q_proj.") {
            Some(config.num_heads)
        } else if hf.contains(".k_proj.") {
            Some(config.num_kv_heads)
        } else {
            None
        };
        if device.is_cpu() && is_projection(&hf) {
            let (rows, cols) = q.shape().dims2().map_err(failed)?;
            let mut w = QuantizedWeight::new(q.dtype(), rows, cols, &q.data().map_err(failed)?)
                .map_err(failed)?;
            if let Some(heads) = heads {
                let source = unpermuted_row_source(rows, heads).map_err(failed)?;
                w = w.permute_rows(source).map_err(failed)?;
            }
            quantized.insert(hf, w);
            continue;
        }
        let t = q
            .dequantize(device)
            .and_then(|t| t.to_dtype(DType::F32))
            .map_err(failed)?;
        let t = match heads {
            Some(heads) => unpermute_qk(&t, heads).map_err(failed)?,
            None => t,
        };
        out.insert(hf, t);
    }
    Ok((out, quantized))
}

/// The rotary scaling of a `rope_freqs.weight` tensor (one divisor per
/// frequency, llama.cpp's form of Llama 3.1+ scaling). The error is what
/// is wrong with the tensor (`Ok`), or candle's failure to read it.
fn rope_freqs(
    q: &candle_core::quantized::QTensor,
    config: &ModelConfig,
) -> Result<RopeScaling, Result<String, candle_core::Error>> {
    let factors: Vec<f32> = q
        .dequantize(&Device::Cpu)
        .and_then(|t| t.to_dtype(DType::F32))
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1())
        .map_err(Err)?;
    if factors.len() != config.head_dim / 2 {
        return Err(Ok(format!(
            "has {} factors, expected head_dim/2 = {}",
            factors.len(),
            config.head_dim / 2
        )));
    }
    if !matches!(config.rope_scaling, RopeScaling::None) {
        return Err(Ok(
            "and rope scaling metadata both present; cannot apply both".into(),
        ));
    }
    Ok(RopeScaling::Factors {
        factors: factors.into_iter().map(f64::from).collect(),
    })
}

/// [`unpermute_qk`] as a row map for `rows` rows of `heads` heads: row i of
/// the result is row `source(i)` of the file's tensor.
fn unpermuted_row_source(
    rows: usize,
    heads: usize,
) -> candle_core::Result<impl Fn(usize) -> usize> {
    if heads == 0 || rows % (2 * heads) != 0 {
        candle_core::bail!("cannot un-permute {rows} rows into {heads} heads of even width");
    }
    let half = rows / heads / 2;
    // result [heads, 2, half] ← file [heads, half, 2]
    Ok(move |i: usize| {
        let (h, rest) = (i / (2 * half), i % (2 * half));
        let (a, b) = (rest / half, rest % half);
        h * 2 * half + b * 2 + a
    })
}

/// A candle error's message without the backtrace candle attaches when
/// `RUST_BACKTRACE` is set.
fn plain(e: candle_core::Error) -> String {
    super::error::bare(e).to_string()
}

/// A numeric GGUF metadata value as f64 (integers of any width, floats).
pub(crate) fn as_f64(v: &Value) -> Option<f64> {
    Some(match v {
        Value::U8(x) => *x as f64,
        Value::I8(x) => *x as f64,
        Value::U16(x) => *x as f64,
        Value::I16(x) => *x as f64,
        Value::U32(x) => *x as f64,
        Value::I32(x) => *x as f64,
        Value::U64(x) => *x as f64,
        Value::I64(x) => *x as f64,
        Value::F32(x) => *x as f64,
        Value::F64(x) => *x,
        _ => return None,
    })
}

/// A string metadata value, with an error naming the file and key.
pub(crate) fn meta_str<'a>(
    path: &Path,
    md: &'a HashMap<String, Value>,
    key: &str,
) -> Result<&'a str, ModelError> {
    match md.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(v) => Err(ModelError::Config {
            path: path.into(),
            reason: format!("metadata `{key}` should be a string, found {v:?}"),
        }),
        None => Err(ModelError::Config {
            path: path.into(),
            reason: format!("metadata `{key}` is missing"),
        }),
    }
}

/// An integer metadata value (any integer type), if present.
pub fn meta_u64(md: &HashMap<String, Value>, key: &str) -> Option<u64> {
    md.get(key)
        .and_then(as_f64)
        .filter(|x| *x >= 0.0 && x.fract() == 0.0)
        .map(|x| x as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &Tensor) -> Vec<Vec<f32>> {
        t.to_vec2().unwrap()
    }

    #[test]
    fn row_source_is_unpermute_qk() {
        let (rows, heads) = (24, 3);
        let t = Tensor::arange(0f32, rows as f32, &Device::Cpu).unwrap();
        let want: Vec<f32> = unpermute_qk(&t, heads).unwrap().to_vec1().unwrap();
        let source = unpermuted_row_source(rows, heads).unwrap();
        let got: Vec<f32> = (0..rows).map(|i| source(i) as f32).collect();
        assert_eq!(got, want);
        assert!(unpermuted_row_source(10, 3).is_err());
    }

    #[test]
    fn unpermute_inverts_the_converters_permutation() {
        // 2 heads of width 6, 3 input columns; row r holds r*10 + c.
        let (heads, hd, cols) = (2usize, 6usize, 3usize);
        let data: Vec<f32> = (0..heads * hd)
            .flat_map(|r| (0..cols).map(move |c| (r * 10 + c) as f32))
            .collect();
        let w = Tensor::from_vec(data, (heads * hd, cols), &Device::Cpu).unwrap();
        let p = permute_qk(&w, heads).unwrap();
        // llama.cpp's permutation interleaves each head's two halves:
        // head 0 rows [0 1 2 | 3 4 5] become [0 3 1 4 2 5].
        let order: Vec<usize> = rows(&p).iter().map(|r| (r[0] / 10.0) as usize).collect();
        assert_eq!(order, vec![0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
        assert_eq!(rows(&unpermute_qk(&p, heads).unwrap()), rows(&w));
        assert_eq!(
            rows(&permute_qk(&unpermute_qk(&w, heads).unwrap(), heads).unwrap()),
            rows(&w)
        );
        // biases (1-D) too
        let b = Tensor::arange(0f32, 12.0, &Device::Cpu).unwrap();
        let pb = permute_qk(&b, heads).unwrap();
        assert_eq!(
            pb.to_vec1::<f32>().unwrap(),
            vec![0., 3., 1., 4., 2., 5., 6., 9., 7., 10., 8., 11.]
        );
        assert_eq!(
            unpermute_qk(&pb, heads).unwrap().to_vec1::<f32>().unwrap(),
            b.to_vec1::<f32>().unwrap()
        );
        assert!(unpermute_qk(&w, 5).is_err());
    }

    #[test]
    fn unpermuted_rotary_matches_interleaved_rotary() {
        // The point of the un-permutation: rotate-half rope on the un-permuted
        // rows equals interleaved rope on the permuted rows (up to the same
        // row permutation of the output).
        let (heads, hd, t) = (2usize, 8usize, 5usize);
        let dev = Device::Cpu;
        let x: Vec<f32> = (0..heads * t * hd)
            .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
            .collect();
        // x as rows of the permuted (GGUF) layout, shape [1, heads, t, hd]
        let xg = Tensor::from_vec(x, (1, heads, t, hd), &dev).unwrap();
        let inv: Vec<f32> = (0..hd / 2)
            .map(|i| 1.0 / 10000f32.powf(2.0 * i as f32 / hd as f32))
            .collect();
        let ang: Vec<f32> = (0..t)
            .flat_map(|p| inv.iter().map(move |f| p as f32 * f))
            .collect();
        let ang = Tensor::from_vec(ang, (t, hd / 2), &dev).unwrap();
        let (cos, sin) = (ang.cos().unwrap(), ang.sin().unwrap());
        let inter = candle_nn::rotary_emb::rope_i(&xg, &cos, &sin).unwrap();
        // un-permute each head's last dim: move head dim to rows
        let to_rows = |a: &Tensor| {
            a.squeeze(0)
                .unwrap()
                .permute((0, 2, 1))
                .unwrap()
                .contiguous()
                .unwrap()
        }; // [heads, hd, t]
        let from_rows = |a: &Tensor| {
            a.permute((0, 2, 1))
                .unwrap()
                .unsqueeze(0)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let unperm = |a: &Tensor| {
            let r = to_rows(a).reshape((heads * hd, t)).unwrap();
            from_rows(
                &unpermute_qk(&r, heads)
                    .unwrap()
                    .reshape((heads, hd, t))
                    .unwrap(),
            )
        };
        let half = candle_nn::rotary_emb::rope(&unperm(&xg), &cos, &sin).unwrap();
        let want = unperm(&inter);
        let diff = (half - want)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-6, "{diff}");
    }

    #[test]
    fn tensor_names_map_to_hf() {
        assert_eq!(
            hf_name("token_embd.weight").unwrap(),
            "model.embed_tokens.weight"
        );
        assert_eq!(
            hf_name("blk.12.attn_q.weight").unwrap(),
            "model.layers.12.self_attn.q_proj.weight"
        );
        assert_eq!(
            hf_name("blk.0.attn_k.bias").unwrap(),
            "model.layers.0.self_attn.k_proj.bias"
        );
        assert_eq!(
            hf_name("blk.3.attn_output.weight").unwrap(),
            "model.layers.3.self_attn.o_proj.weight"
        );
        assert_eq!(
            hf_name("blk.3.ffn_down.weight").unwrap(),
            "model.layers.3.mlp.down_proj.weight"
        );
        assert_eq!(
            hf_name("blk.3.attn_norm.weight").unwrap(),
            "model.layers.3.input_layernorm.weight"
        );
        assert_eq!(
            hf_name("blk.3.ffn_norm.weight").unwrap(),
            "model.layers.3.post_attention_layernorm.weight"
        );
        assert_eq!(hf_name("output_norm.weight").unwrap(), "model.norm.weight");
        assert_eq!(hf_name("output.weight").unwrap(), "lm_head.weight");
        assert_eq!(hf_name("blk.3.attn_qkv.weight"), None);
        assert_eq!(hf_name("blk.x.attn_q.weight"), None);
    }
}
