//! Gemma 2: Gemma plus norms before and after both attention and MLP,
//! attention scaled by `query_pre_attn_scalar`^-1/2, tanh soft-capping of
//! attention logits and final logits, and sliding-window attention on
//! alternate layers (`layer_types`, or every even layer).

use super::gemma::{gemma_like, Common};
use super::hf::{default, windows_of_layer_types, Rope, Sizes};
use crate::config::{Layout, ModelConfig};
use serde::Deserialize;

/// A Gemma 2 `config.json`, with the defaults of transformers'
/// `Gemma2Config` (`models/gemma2/configuration_gemma2.py`: 4 key/value
/// heads, head_dim 256, `query_pre_attn_scalar` 256, `sliding_window` 4096,
/// soft-capping 50 (attention) and 30 (final); null turns soft-capping off).
#[derive(Debug, Deserialize)]
pub struct Gemma2Config {
    #[serde(flatten)]
    pub sizes: Sizes,
    /// Null or absent: gelu_pytorch_tanh.
    pub hidden_activation: Option<String>,
    #[serde(default = "default::eps_1e6")]
    pub rms_norm_eps: f64,
    #[serde(flatten)]
    pub rope: Rope,
    #[serde(default = "default::yes")]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default = "default::scalar_256")]
    pub query_pre_attn_scalar: f64,
    #[serde(default = "default::window_4096")]
    pub sliding_window: Option<usize>,
    pub layer_types: Option<Vec<String>>,
    #[serde(default = "softcap_final")]
    pub final_logit_softcapping: Option<f64>,
    #[serde(default = "softcap_attention")]
    pub attn_logit_softcapping: Option<f64>,
}

fn softcap_final() -> Option<f64> {
    Some(30.0)
}

fn softcap_attention() -> Option<f64> {
    Some(50.0)
}

impl Gemma2Config {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        let shape = self.sizes.shape(Some(4), Some(256))?;
        let common = Common {
            rms_norm_eps: self.rms_norm_eps,
            rope: &self.rope,
            tie_word_embeddings: self.tie_word_embeddings,
            attention_bias: self.attention_bias,
        };
        let mut cfg = gemma_like("gemma2", shape, self.hidden_activation.as_deref(), common)?;
        cfg.layout = Layout::Sandwich;
        cfg.query_pre_attn_scalar = self.query_pre_attn_scalar;
        cfg.attn_logit_softcapping = self.attn_logit_softcapping;
        cfg.final_logit_softcapping = self.final_logit_softcapping;
        let window = self.sliding_window;
        cfg.sliding_window = match &self.layer_types {
            Some(types) => windows_of_layer_types(types, window)?,
            None => (0..cfg.num_layers)
                .map(|i| if i % 2 == 0 { window } else { None })
                .collect(),
        };
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<Gemma2Config>(text)?.to_model()
}
