//! Gemma: embeddings scaled by √hidden, RMSNorm with (1 + w), GeGLU MLP
//! (tanh GELU), head_dim independent of hidden/heads, tied embeddings.

use super::hf::{default, Rope, Sizes};
use crate::config::{Activation, ModelConfig, NormKind, Shape};
use serde::Deserialize;

/// A Gemma `config.json`, with the defaults of transformers' `GemmaConfig`
/// (`models/gemma/configuration_gemma.py`: 16 key/value heads, head_dim
/// 256, tied embeddings).
#[derive(Debug, Deserialize)]
pub struct GemmaConfig {
    #[serde(flatten)]
    pub sizes: Sizes,
    /// The MLP's activation. Gemma checkpoints say `hidden_act: gelu` and
    /// mean the tanh approximation, so `hidden_act` is not read: the
    /// activation is `hidden_activation` (null or absent: gelu_pytorch_tanh).
    pub hidden_activation: Option<String>,
    #[serde(default = "default::eps_1e6")]
    pub rms_norm_eps: f64,
    #[serde(flatten)]
    pub rope: Rope,
    #[serde(default = "default::yes")]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
}

impl GemmaConfig {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        let shape = self.sizes.shape(Some(16), Some(256))?;
        gemma_like("gemma", shape, self.hidden_activation.as_deref(), self)
    }
}

/// What Gemma 1–3 share, given the keys they have in common.
pub struct Common<'a> {
    pub rms_norm_eps: f64,
    pub rope: &'a Rope,
    pub tie_word_embeddings: bool,
    pub attention_bias: bool,
}

impl<'a> From<&'a GemmaConfig> for Common<'a> {
    fn from(c: &'a GemmaConfig) -> Self {
        Common {
            rms_norm_eps: c.rms_norm_eps,
            rope: &c.rope,
            tie_word_embeddings: c.tie_word_embeddings,
            attention_bias: c.attention_bias,
        }
    }
}

/// A Gemma-style decoder: Llama's, with scaled embeddings, (1 + w) RMSNorm
/// and the given activation (absent: gelu_pytorch_tanh).
pub fn gemma_like<'a>(
    model_type: &str,
    shape: Shape,
    activation: Option<&str>,
    common: impl Into<Common<'a>>,
) -> Result<ModelConfig, String> {
    let c = common.into();
    let mut cfg = ModelConfig::llama_like(model_type, shape);
    cfg.norm = NormKind::RmsPlusOne;
    cfg.norm_eps = c.rms_norm_eps;
    cfg.scale_embeddings = true;
    cfg.activation = Activation::parse(activation.unwrap_or("gelu_pytorch_tanh"))?;
    cfg.rope_theta = c.rope.theta(10000.0);
    cfg.rope_scaling = c.rope.scaling()?;
    cfg.tie_word_embeddings = c.tie_word_embeddings;
    cfg.attention_bias = c.attention_bias;
    cfg.attention_out_bias = c.attention_bias;
    Ok(cfg)
}

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<GemmaConfig>(text)?.to_model()
}
