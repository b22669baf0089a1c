//! OLMo (the HF-native `olmo` type): Llama's layout with parameter-free
//! LayerNorms (eps 1e-5) and optional clamping of q, k, v (`clip_qkv`).

use super::hf::{default, Rope, Sizes};
use crate::config::{Activation, ModelConfig, NormKind};
use serde::Deserialize;

/// An OLMo `config.json`, with the defaults of transformers' `OlmoConfig`
/// (`models/olmo/configuration_olmo.py`). Its LayerNorm has no eps key
/// (`OlmoLayerNorm` uses 1e-5).
#[derive(Debug, Deserialize)]
pub struct OlmoConfig {
    #[serde(flatten)]
    pub sizes: Sizes,
    #[serde(default = "default::silu")]
    pub hidden_act: String,
    #[serde(flatten)]
    pub rope: Rope,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
    pub clip_qkv: Option<f64>,
}

impl OlmoConfig {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        let mut cfg = ModelConfig::llama_like("olmo", self.sizes.shape(None, None)?);
        cfg.norm = NormKind::LayerNoParams;
        cfg.norm_eps = 1e-5;
        cfg.activation = Activation::parse(&self.hidden_act)?;
        cfg.rope_theta = self.rope.theta(10000.0);
        cfg.rope_scaling = self.rope.scaling()?;
        cfg.tie_word_embeddings = self.tie_word_embeddings;
        cfg.attention_bias = self.attention_bias;
        cfg.attention_out_bias = self.attention_bias;
        cfg.clip_qkv = self.clip_qkv;
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<OlmoConfig>(text)?.to_model()
}
