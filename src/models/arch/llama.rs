//! Llama (Llama 2/3.x, SmolLM/SmolLM2) and Mistral-style configs: RMSNorm
//! pre-norm, SwiGLU, rotary embeddings (with linear or llama3 scaling),
//! grouped-query attention, optional attention/MLP biases.

use crate::models::config::{Activation, Json, Layout, ModelConfig, NormKind, QkNorm};

pub fn parse(j: &Json) -> Result<ModelConfig, String> {
    let (heads, kv, head_dim) = j.heads()?;
    let layers = j.usize("num_hidden_layers")?;
    let attention_bias = j.bool_or("attention_bias", false);
    let window = j
        .opt_usize("sliding_window")
        .filter(|_| j.str("model_type") == Some("mistral"));
    Ok(ModelConfig {
        model_type: j.str("model_type").unwrap_or("llama").into(),
        vocab_size: j.usize("vocab_size")?,
        hidden_size: j.usize("hidden_size")?,
        intermediate_size: j.usize("intermediate_size")?,
        num_layers: layers,
        num_heads: heads,
        num_kv_heads: kv,
        head_dim,
        norm: NormKind::Rms,
        norm_eps: j.f64_or("rms_norm_eps", 1e-6),
        layout: Layout::PreNorm,
        activation: Activation::parse(j.str("hidden_act").unwrap_or("silu"))?,
        gated_mlp: true,
        rope_theta: j.rope_theta("rope_theta", 10000.0),
        rope_scaling: j.rope_scaling()?,
        local_rope: None,
        rotary_dims: head_dim,
        tie_word_embeddings: j.bool_or("tie_word_embeddings", false),
        attention_bias,
        attention_out_bias: attention_bias,
        mlp_bias: j.bool_or("mlp_bias", false),
        clip_qkv: None,
        qk_norm: QkNorm::None,
        scale_embeddings: false,
        query_pre_attn_scalar: head_dim as f64,
        attn_logit_softcapping: None,
        final_logit_softcapping: None,
        sliding_window: vec![window; layers],
        learned_positions: None,
    })
}
