//! Gemma 3 (text, `gemma3_text`): Gemma 2's sandwich norms, scaled
//! embeddings and (1 + w) RMSNorm, plus RMSNorm of each q and k head
//! (also (1 + w)) before rotary embeddings, sliding-window attention on five
//! layers of every six (`layer_types`, or `sliding_window_pattern`), and a
//! separate rotary base for the sliding layers (`rope_local_base_freq`, or
//! `rope_parameters.sliding_attention`). No soft-capping by default.

use super::gemma::{gemma_like, Common};
use super::hf::{default, windows_of_layer_types, Rope, RopeParameters, Sizes};
use crate::config::{Layout, ModelConfig, QkNorm, RopeScaling};
use serde::Deserialize;

/// A Gemma 3 text `config.json`, with the defaults of transformers'
/// `Gemma3TextConfig` (`models/gemma3/configuration_gemma3.py`: 4 key/value
/// heads, head_dim 256, `query_pre_attn_scalar` 256, `sliding_window` 4096,
/// no soft-capping, a sliding-window pattern of 6, rotary bases 1e6 (global)
/// and 1e4 (local)).
#[derive(Debug, Deserialize)]
pub struct Gemma3TextConfig {
    #[serde(flatten)]
    pub sizes: Sizes,
    /// Null or absent: gelu_pytorch_tanh.
    pub hidden_activation: Option<String>,
    #[serde(default = "default::eps_1e6")]
    pub rms_norm_eps: f64,
    #[serde(flatten)]
    pub rope: Rope,
    pub rope_local_base_freq: Option<f64>,
    #[serde(default = "default::yes")]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default = "default::scalar_256")]
    pub query_pre_attn_scalar: f64,
    #[serde(default = "default::window_4096")]
    pub sliding_window: Option<usize>,
    pub layer_types: Option<Vec<String>>,
    pub sliding_window_pattern: Option<usize>,
    pub final_logit_softcapping: Option<f64>,
    pub attn_logit_softcapping: Option<f64>,
}

impl Gemma3TextConfig {
    pub fn to_model(&self) -> Result<ModelConfig, String> {
        let shape = self.sizes.shape(Some(4), Some(256))?;
        let common = Common {
            rms_norm_eps: self.rms_norm_eps,
            rope: &self.rope,
            tie_word_embeddings: self.tie_word_embeddings,
            attention_bias: self.attention_bias,
        };
        let mut cfg = gemma_like(
            "gemma3_text",
            shape,
            self.hidden_activation.as_deref(),
            common,
        )?;
        cfg.layout = Layout::Sandwich;
        cfg.qk_norm = QkNorm::PerHead;
        cfg.query_pre_attn_scalar = self.query_pre_attn_scalar;
        cfg.attn_logit_softcapping = self.attn_logit_softcapping;
        cfg.final_logit_softcapping = self.final_logit_softcapping;
        let window = self.sliding_window;
        cfg.sliding_window = match &self.layer_types {
            Some(types) => windows_of_layer_types(types, window)?,
            None => {
                let pattern = self.sliding_window_pattern.unwrap_or(6).max(1);
                (0..cfg.num_layers)
                    .map(|i| if (i + 1) % pattern != 0 { window } else { None })
                    .collect()
            }
        };
        let (global, local) = self.rotary()?;
        (cfg.rope_theta, cfg.rope_scaling) = global;
        cfg.local_rope = Some(local);
        Ok(cfg)
    }

    /// The rotary base and scaling of the global and the sliding layers.
    #[allow(clippy::type_complexity)]
    fn rotary(&self) -> Result<((f64, RopeScaling), (f64, RopeScaling)), String> {
        let per_type = self
            .rope
            .rope_parameters
            .as_ref()
            .filter(|p| p.full_attention.is_some() || p.sliding_attention.is_some());
        Ok(match per_type {
            // transformers 5: one rope_parameters object per layer type
            Some(p) => {
                let part = |v: &Option<Box<RopeParameters>>, theta: f64| match v {
                    Some(v) => Ok::<_, String>((v.rope_theta.unwrap_or(theta), v.scaling()?)),
                    None => Ok((theta, RopeScaling::None)),
                };
                (
                    part(&p.full_attention, GLOBAL_THETA)?,
                    part(&p.sliding_attention, LOCAL_THETA)?,
                )
            }
            // hub configs: rope_theta and rope_scaling for global layers,
            // rope_local_base_freq (unscaled) for sliding ones
            None => (
                (
                    self.rope.rope_theta.unwrap_or(GLOBAL_THETA),
                    self.rope.scaling()?,
                ),
                (
                    self.rope_local_base_freq.unwrap_or(LOCAL_THETA),
                    RopeScaling::None,
                ),
            ),
        })
    }
}

/// `Gemma3TextConfig.default_theta`: global and local rotary bases.
const GLOBAL_THETA: f64 = 1_000_000.0;
const LOCAL_THETA: f64 = 10_000.0;

pub fn parse(text: &str) -> Result<ModelConfig, String> {
    super::read::<Gemma3TextConfig>(text)?.to_model()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: serde_json::Value) -> ModelConfig {
        let mut j = serde_json::json!({
            "model_type": "gemma3_text", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
            "num_hidden_layers": 7, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4,
            "sliding_window": 3
        });
        j.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        parse(&j.to_string()).unwrap()
    }

    #[test]
    fn hub_config_form() {
        let c = cfg(
            serde_json::json!({"rope_theta": 1e6, "rope_local_base_freq": 1e4,
                                       "rope_scaling": {"rope_type": "linear", "factor": 8.0}}),
        );
        assert_eq!(
            c.sliding_window,
            vec![Some(3), Some(3), Some(3), Some(3), Some(3), None, Some(3)]
        );
        assert_eq!(
            (c.rope_theta, c.rope_scaling.clone()),
            (1e6, RopeScaling::Linear { factor: 8.0 })
        );
        assert_eq!(c.local_rope, Some((1e4, RopeScaling::None)));
        assert_eq!(
            (c.qk_norm, c.query_pre_attn_scalar),
            (QkNorm::PerHead, 256.0)
        );
        assert_eq!(
            (c.attn_logit_softcapping, c.final_logit_softcapping),
            (None, None)
        );
    }

    #[test]
    fn transformers_5_form() {
        let c = cfg(serde_json::json!({
            "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "sliding_attention",
                            "sliding_attention", "sliding_attention", "full_attention"],
            "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 5e5},
                                "sliding_attention": {"rope_type": "default", "rope_theta": 2e4}}}));
        assert_eq!(c.sliding_window[..2], [Some(3), None]);
        assert_eq!(
            (c.rope_theta, c.rope_scaling.clone()),
            (5e5, RopeScaling::Linear { factor: 2.0 })
        );
        assert_eq!(c.local_rope, Some((2e4, RopeScaling::None)));
    }
}
