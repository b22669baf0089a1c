//! OLMo-2: norms after attention and after the MLP instead of before
//! (x + norm(attn(x)), x + norm(mlp(x))), and RMSNorm over the full q and k
//! projections before rotary embeddings.

use super::hf::{default, Rope, Sizes};
use crate::config::{Activation, Layout, ModelConfig, QkNorm};
use serde::Deserialize;

/// An OLMo-2 `config.json`, with the defaults of transformers'
/// `Olmo2Config` (`models/olmo2/configuration_olmo2.py`: `rms_norm_eps`
/// 1e-5; no `clip_qkv`, which `Olmo2Config` removes).
#[derive(Debug, Deserialize)]
pub struct Olmo2Config {
    #[serde(flatten)]
    pub sizes: Sizes,
    #[serde(default = "default::silu")]
    pub hidden_act: String,
    #[serde(default = "default::eps_1e5")]
    pub rms_norm_eps: f64,
    #[serde(flatten)]
    pub rope: Rope,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
}

impl Olmo2Config {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        let mut cfg = ModelConfig::llama_like("olmo2", self.sizes.shape(None, None)?);
        cfg.layout = Layout::PostNorm;
        cfg.qk_norm = QkNorm::Full;
        cfg.norm_eps = self.rms_norm_eps;
        cfg.activation = Activation::parse(&self.hidden_act)?;
        cfg.rope_theta = self.rope.theta(10000.0);
        cfg.rope_scaling = self.rope.scaling()?;
        cfg.tie_word_embeddings = self.tie_word_embeddings;
        cfg.attention_bias = self.attention_bias;
        cfg.attention_out_bias = self.attention_bias;
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<Olmo2Config>(text)?.to_model()
}
