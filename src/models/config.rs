//! Model configuration from a Hugging Face `config.json`: the fields the
//! forward pass needs, with the transformers defaults where a field is absent.

use super::ModelError;
use serde::Deserialize;
use std::path::Path;

/// The architectures this version of lossy runs.
pub const SUPPORTED: &[&str] = &["llama"];

/// RoPE frequency scaling, as in `rope_scaling` (or `rope_parameters`).
#[derive(Clone, Debug, PartialEq)]
pub enum RopeScaling {
    None,
    Linear { factor: f64 },
    Llama3 { factor: f64, low_freq_factor: f64, high_freq_factor: f64, original_max_position_embeddings: f64 },
}

/// A decoder-only transformer's shape and options.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: RopeScaling,
    pub tie_word_embeddings: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub hidden_act: String,
}

#[derive(Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    rope_scaling: Option<serde_json::Value>,
    rope_parameters: Option<serde_json::Value>,
    tie_word_embeddings: Option<bool>,
    attention_bias: Option<bool>,
    mlp_bias: Option<bool>,
    hidden_act: Option<String>,
}

impl ModelConfig {
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: path.into(), source })?;
        let bad = |reason: String| ModelError::Config { path: path.into(), reason };
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let model_type = json.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
        if !SUPPORTED.contains(&model_type.as_str()) {
            return Err(ModelError::Unsupported { path: path.into(), model_type, supported: SUPPORTED.join(", ") });
        }
        let raw: RawConfig = serde_json::from_value(json).map_err(|e| bad(e.to_string()))?;
        let num_kv_heads = raw.num_key_value_heads.unwrap_or(raw.num_attention_heads);
        if raw.num_attention_heads == 0 || num_kv_heads == 0 || raw.num_attention_heads % num_kv_heads != 0 {
            return Err(bad(format!(
                "num_attention_heads ({}) must be a positive multiple of num_key_value_heads ({num_kv_heads})",
                raw.num_attention_heads
            )));
        }
        let head_dim = raw.head_dim.unwrap_or(raw.hidden_size / raw.num_attention_heads);
        if head_dim % 2 != 0 {
            return Err(bad(format!("head_dim {head_dim} must be even for rotary embeddings")));
        }
        // transformers 5 moved rope_theta and rope_scaling into rope_parameters.
        let params = raw.rope_parameters.as_ref();
        let rope_theta = raw
            .rope_theta
            .or_else(|| params.and_then(|p| p.get("rope_theta")).and_then(|v| v.as_f64()))
            .unwrap_or(10000.0);
        let rope_scaling = parse_rope_scaling(raw.rope_scaling.as_ref().or(params)).map_err(bad)?;
        Ok(Self {
            model_type: raw.model_type.unwrap_or_default(),
            vocab_size: raw.vocab_size,
            hidden_size: raw.hidden_size,
            intermediate_size: raw.intermediate_size,
            num_layers: raw.num_hidden_layers,
            num_heads: raw.num_attention_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps: raw.rms_norm_eps.unwrap_or(1e-6),
            rope_theta,
            rope_scaling,
            tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(false),
            attention_bias: raw.attention_bias.unwrap_or(false),
            mlp_bias: raw.mlp_bias.unwrap_or(false),
            hidden_act: raw.hidden_act.unwrap_or_else(|| "silu".into()),
        })
    }

    /// Parameters outside the embedding and LM head (for FLOP estimates).
    pub fn non_embedding_params(&self) -> usize {
        let (d, h, kv, hd, f) = (self.hidden_size, self.num_heads, self.num_kv_heads, self.head_dim, self.intermediate_size);
        let attn = d * h * hd + 2 * d * kv * hd + h * hd * d;
        let mlp = 3 * d * f;
        self.num_layers * (attn + mlp + 2 * d) + d
    }
}

fn parse_rope_scaling(v: Option<&serde_json::Value>) -> Result<RopeScaling, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(RopeScaling::None) };
    let kind = v.get("rope_type").or_else(|| v.get("type")).and_then(|t| t.as_str()).unwrap_or("default");
    let num = |key: &str| -> Result<f64, String> {
        v.get(key).and_then(|x| x.as_f64()).ok_or_else(|| format!("rope_scaling of type `{kind}` needs `{key}`"))
    };
    match kind {
        "default" => Ok(RopeScaling::None),
        "linear" => Ok(RopeScaling::Linear { factor: num("factor")? }),
        "llama3" => Ok(RopeScaling::Llama3 {
            factor: num("factor")?,
            low_freq_factor: num("low_freq_factor")?,
            high_freq_factor: num("high_freq_factor")?,
            original_max_position_embeddings: num("original_max_position_embeddings")?,
        }),
        other => Err(format!("rope_scaling type `{other}` is not supported (supported: default, linear, llama3)")),
    }
}

impl RopeScaling {
    /// Inverse frequencies for a head of width `head_dim`, as transformers
    /// computes them (`_compute_default/linear/llama3_rope_parameters`).
    pub fn inv_freq(&self, head_dim: usize, theta: f64) -> Vec<f64> {
        let base: Vec<f64> = (0..head_dim / 2).map(|i| 1.0 / theta.powf(2.0 * i as f64 / head_dim as f64)).collect();
        match *self {
            RopeScaling::None => base,
            RopeScaling::Linear { factor } => base.iter().map(|f| f / factor).collect(),
            RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position_embeddings: old } => {
                let low_wavelen = old / low_freq_factor;
                let high_wavelen = old / high_freq_factor;
                base.iter()
                    .map(|&f| {
                        let wavelen = 2.0 * std::f64::consts::PI / f;
                        if wavelen < high_wavelen {
                            f
                        } else if wavelen > low_wavelen {
                            f / factor
                        } else {
                            let smooth = (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
                            (1.0 - smooth) * f / factor + smooth * f
                        }
                    })
                    .collect()
            }
        }
    }
}
