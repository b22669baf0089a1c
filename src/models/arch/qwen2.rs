//! Qwen 1.5 / 2 / 2.5: Llama's layout with biases on the q, k and v
//! projections (none on the output projection). Sliding-window attention,
//! off in released configs, is refused when switched on.

use crate::models::config::{Json, ModelConfig};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    if j.bool_or("use_sliding_window", false) {
        return Err("qwen2 with use_sliding_window = true is not supported".into());
    }
    let mut cfg = super::llama::parse(j)?;
    cfg.model_type = "qwen2".into();
    cfg.attention_bias = true;
    cfg.attention_out_bias = false;
    cfg.mlp_bias = false;
    cfg.sliding_window = vec![None; cfg.num_layers];
    Ok(cfg)
}
