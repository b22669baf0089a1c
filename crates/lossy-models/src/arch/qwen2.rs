//! Qwen 1.5 / 2 / 2.5: Llama's layout with biases on the q, k and v
//! projections (none on the output projection). Sliding-window attention,
//! off in released configs, is refused when switched on.

use super::hf::{default, Rope, Sizes};
use crate::config::{Activation, ModelConfig};
use serde::Deserialize;

/// A Qwen2 `config.json`, with the defaults of transformers' `Qwen2Config`
/// (`models/qwen2/configuration_qwen2.py`).
#[derive(Debug, Deserialize)]
pub struct Qwen2Config {
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
    pub use_sliding_window: bool,
}

impl Qwen2Config {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        if self.use_sliding_window {
            return Err("qwen2 with use_sliding_window = true is not supported".into());
        }
        // Qwen2Config: num_key_value_heads = 32 when absent.
        let shape = self.sizes.shape(Some(32), None)?;
        let mut cfg = ModelConfig::llama_like("qwen2", shape);
        cfg.norm_eps = self.rms_norm_eps;
        cfg.activation = Activation::parse(&self.hidden_act)?;
        cfg.rope_theta = self.rope.theta(10000.0);
        cfg.rope_scaling = self.rope.scaling()?;
        cfg.tie_word_embeddings = self.tie_word_embeddings;
        cfg.attention_bias = true;
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<Qwen2Config>(text)?.to_model()
}
