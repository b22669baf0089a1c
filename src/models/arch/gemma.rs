//! Gemma: embeddings scaled by √hidden, RMSNorm with (1 + w), GeGLU MLP
//! (tanh GELU), head_dim independent of hidden/heads, tied embeddings.

use crate::models::config::{Activation, Json, ModelConfig, NormKind};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    let mut cfg = super::llama::parse(j)?;
    cfg.model_type = "gemma".into();
    cfg.norm = NormKind::RmsPlusOne;
    cfg.scale_embeddings = true;
    // transformers uses `hidden_activation` (default gelu_pytorch_tanh),
    // whatever `hidden_act` says.
    cfg.activation = Activation::parse(j.str("hidden_activation").unwrap_or("gelu_pytorch_tanh"))?;
    cfg.tie_word_embeddings = j.bool_or("tie_word_embeddings", true);
    Ok(cfg)
}
