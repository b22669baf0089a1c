//! Gemma 2: Gemma plus norms before and after both attention and MLP,
//! attention scaled by `query_pre_attn_scalar`^-1/2, tanh soft-capping of
//! attention logits and final logits, and sliding-window attention on
//! alternate layers (`layer_types`, or every even layer).

use crate::models::config::{Json, Layout, ModelConfig};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    let mut cfg = super::gemma::parse(j)?;
    cfg.model_type = "gemma2".into();
    cfg.layout = Layout::Sandwich;
    cfg.query_pre_attn_scalar = j.f64_or("query_pre_attn_scalar", cfg.head_dim as f64);
    cfg.attn_logit_softcapping = j.opt_f64("attn_logit_softcapping");
    cfg.final_logit_softcapping = j.opt_f64("final_logit_softcapping");
    let window = j.opt_usize("sliding_window");
    cfg.sliding_window = match j.0.get("layer_types").and_then(|v| v.as_array()) {
        Some(types) => types
            .iter()
            .map(|t| match t.as_str() {
                Some("sliding_attention") => Ok(window),
                Some("full_attention") => Ok(None),
                other => Err(format!("unknown layer type {other:?} in `layer_types`")),
            })
            .collect::<Result<_, _>>()?,
        None => (0..cfg.num_layers)
            .map(|i| if i % 2 == 0 { window } else { None })
            .collect(),
    };
    Ok(cfg)
}
