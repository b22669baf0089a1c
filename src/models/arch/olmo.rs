//! OLMo (the HF-native `olmo` type): Llama's layout with parameter-free
//! LayerNorms (eps 1e-5) and optional clamping of q, k, v (`clip_qkv`).

use crate::models::config::{Json, ModelConfig, NormKind};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    let mut cfg = super::llama::parse(j)?;
    cfg.model_type = "olmo".into();
    cfg.norm = NormKind::LayerNoParams;
    cfg.norm_eps = 1e-5;
    cfg.clip_qkv = j.opt_f64("clip_qkv");
    Ok(cfg)
}
