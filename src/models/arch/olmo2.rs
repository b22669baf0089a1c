//! OLMo-2: norms after attention and after the MLP instead of before
//! (x + norm(attn(x)), x + norm(mlp(x))), and RMSNorm over the full q and k
//! projections before rotary embeddings.

use crate::models::config::{Json, Layout, ModelConfig, QkNorm};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    let mut cfg = super::llama::parse(j)?;
    cfg.model_type = "olmo2".into();
    cfg.layout = Layout::PostNorm;
    cfg.qk_norm = QkNorm::Full;
    cfg.clip_qkv = j.opt_f64("clip_qkv");
    Ok(cfg)
}
