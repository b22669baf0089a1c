//! What the Hugging Face `config.json`s of lossy's architectures share: the
//! rotary-embedding objects (`rope_scaling`, and transformers 5's
//! `rope_parameters`), the required size keys, and the serde defaults that
//! several transformers config classes use.
//!
//! The size keys (vocabulary, widths, layers, heads) are required although
//! transformers' config classes give them defaults: those defaults describe
//! some 7B model, and lossy does not guess the size of the weights it loads.

use crate::config::{RopeScaling, Shape};
use serde::Deserialize;

/// A `rope_scaling` or `rope_parameters` object. In transformers 5 a
/// `rope_parameters` object also holds `rope_theta` and (GPT-NeoX)
/// `partial_rotary_factor`, or (Gemma 3) one such object per layer type.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RopeParameters {
    pub rope_type: Option<String>,
    /// The name of `rope_type` in older configs.
    #[serde(rename = "type")]
    pub legacy_type: Option<String>,
    pub factor: Option<f64>,
    pub low_freq_factor: Option<f64>,
    pub high_freq_factor: Option<f64>,
    pub original_max_position_embeddings: Option<f64>,
    pub rope_theta: Option<f64>,
    pub partial_rotary_factor: Option<f64>,
    pub full_attention: Option<Box<RopeParameters>>,
    pub sliding_attention: Option<Box<RopeParameters>>,
}

impl RopeParameters {
    /// The frequency scaling this object describes.
    pub fn scaling(&self) -> Result<RopeScaling, String> {
        let kind = self
            .rope_type
            .as_deref()
            .or(self.legacy_type.as_deref())
            .unwrap_or("default");
        let num = |value: Option<f64>, key: &str| {
            value.ok_or_else(|| format!("rope scaling of type `{kind}` needs `{key}`"))
        };
        match kind {
            "default" => Ok(RopeScaling::None),
            "linear" => Ok(RopeScaling::Linear {
                factor: num(self.factor, "factor")?,
            }),
            "llama3" => Ok(RopeScaling::Llama3 {
                factor: num(self.factor, "factor")?,
                low_freq_factor: num(self.low_freq_factor, "low_freq_factor")?,
                high_freq_factor: num(self.high_freq_factor, "high_freq_factor")?,
                original_max_position_embeddings: num(
                    self.original_max_position_embeddings,
                    "original_max_position_embeddings",
                )?,
            }),
            other => Err(format!(
                "rope scaling type `{other}` is not supported (supported: default, linear, llama3)"
            )),
        }
    }
}

/// The rotary keys of a config: `rope_theta` at the top level (transformers
/// 4) or inside `rope_parameters` (transformers 5), and the scaling from
/// `rope_scaling` or else `rope_parameters`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Rope {
    pub rope_theta: Option<f64>,
    pub rope_scaling: Option<RopeParameters>,
    pub rope_parameters: Option<RopeParameters>,
}

impl Rope {
    /// The rotary base: `rope_theta`, else `rope_parameters.rope_theta`,
    /// else `default` (the config class's).
    pub fn theta(&self, default: f64) -> f64 {
        self.rope_theta
            .or_else(|| self.rope_parameters.as_ref()?.rope_theta)
            .unwrap_or(default)
    }

    pub fn scaling(&self) -> Result<RopeScaling, String> {
        match self.rope_scaling.as_ref().or(self.rope_parameters.as_ref()) {
            Some(p) => p.scaling(),
            None => Ok(RopeScaling::None),
        }
    }
}

/// A required size key.
pub fn required(key: &str, value: Option<usize>) -> Result<usize, String> {
    value.ok_or_else(|| format!("`{key}` is missing or not a non-negative integer"))
}

/// The size keys of a Llama-style config (`num_attention_heads`,
/// `num_key_value_heads`, `head_dim`, …), all under their transformers names.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct Sizes {
    pub vocab_size: Option<usize>,
    pub hidden_size: Option<usize>,
    pub intermediate_size: Option<usize>,
    pub num_hidden_layers: Option<usize>,
    pub num_attention_heads: Option<usize>,
    pub num_key_value_heads: Option<usize>,
    pub head_dim: Option<usize>,
}

impl Sizes {
    /// The shape, with `num_key_value_heads` defaulting to `kv_default`
    /// (`None`: the number of heads) and `head_dim` to `head_dim_default`
    /// (`None`: hidden_size / heads), as the config class does.
    pub fn shape(
        &self,
        kv_default: Option<usize>,
        head_dim_default: Option<usize>,
    ) -> Result<Shape, String> {
        let num_heads = required("num_attention_heads", self.num_attention_heads)?;
        let hidden_size = required("hidden_size", self.hidden_size)?;
        Ok(Shape {
            num_layers: required("num_hidden_layers", self.num_hidden_layers)?,
            vocab_size: required("vocab_size", self.vocab_size)?,
            hidden_size,
            intermediate_size: required("intermediate_size", self.intermediate_size)?,
            num_heads,
            num_kv_heads: self.num_key_value_heads.or(kv_default).unwrap_or(num_heads),
            head_dim: self
                .head_dim
                .or(head_dim_default)
                .unwrap_or(hidden_size / num_heads.max(1)),
        })
    }
}

/// Per layer, the sliding window of `layer_types` (`sliding_attention`:
/// `window`; `full_attention`: none).
pub fn windows_of_layer_types(
    types: &[String],
    window: Option<usize>,
) -> Result<Vec<Option<usize>>, String> {
    types
        .iter()
        .map(|t| match t.as_str() {
            "sliding_attention" => Ok(window),
            "full_attention" => Ok(None),
            other => Err(format!(
                "unknown layer type {:?} in `layer_types`",
                Some(other)
            )),
        })
        .collect()
}

/// serde defaults shared by several transformers config classes.
pub mod default {
    pub fn yes() -> bool {
        true
    }
    pub fn eps_1e5() -> f64 {
        1e-5
    }
    pub fn eps_1e6() -> f64 {
        1e-6
    }
    pub fn silu() -> String {
        "silu".into()
    }
    pub fn scalar_256() -> f64 {
        256.0
    }
    pub fn window_4096() -> Option<usize> {
        Some(4096)
    }
}
