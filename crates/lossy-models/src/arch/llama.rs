//! Llama (Llama 2/3.x, SmolLM/SmolLM2) and Mistral-style configs: RMSNorm
//! pre-norm, SwiGLU, rotary embeddings (with linear or llama3 scaling),
//! grouped-query attention, optional attention/MLP biases.

use super::hf::{default, Rope, Sizes};
use crate::config::{Activation, ModelConfig};
use serde::Deserialize;

/// A Llama (or Mistral) `config.json`, with the defaults of transformers'
/// `LlamaConfig` (`models/llama/configuration_llama.py`).
///
/// Mistral configs share it: `sliding_window` is read only for
/// `model_type: mistral`. (`MistralConfig`'s own defaults for absent keys,
/// `sliding_window` 4096 and 8 key/value heads, are not applied: configs
/// saved by transformers always state both.)
#[derive(Debug, Deserialize)]
pub struct LlamaConfig {
    pub model_type: Option<String>,
    #[serde(flatten)]
    pub sizes: Sizes,
    #[serde(default = "default::silu")]
    pub hidden_act: String,
    #[serde(default = "default::eps_1e6")]
    pub rms_norm_eps: f64,
    #[serde(flatten)]
    pub rope: Rope,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
    /// Mistral only.
    pub sliding_window: Option<usize>,
}

impl LlamaConfig {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        let model_type = self.model_type.as_deref().unwrap_or("llama");
        let shape = self.sizes.shape(None, None)?;
        let mut cfg = ModelConfig::llama_like(model_type, shape);
        cfg.norm_eps = self.rms_norm_eps;
        cfg.activation = Activation::parse(&self.hidden_act)?;
        cfg.rope_theta = self.rope.theta(10000.0);
        cfg.rope_scaling = self.rope.scaling()?;
        cfg.tie_word_embeddings = self.tie_word_embeddings;
        cfg.attention_bias = self.attention_bias;
        cfg.attention_out_bias = self.attention_bias;
        cfg.mlp_bias = self.mlp_bias;
        let window = self.sliding_window.filter(|_| model_type == "mistral");
        cfg.sliding_window = vec![window; shape.num_layers];
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<LlamaConfig>(text)?.to_model()
}
