//! GPT-NeoX (Pythia): LayerNorm with bias, one fused q/k/v projection laid
//! out per head as [heads, 3, head_dim], rotary embeddings on the first
//! `rotary_pct` of each head, a parallel residual
//! x + attn(ln1(x)) + mlp(ln2(x)) (or sequential), exact GELU, untied
//! `embed_out`.

use super::{decoder, Attention, Block, Decoder, Mlp, Norm, Qkv};
use crate::models::config::{Activation, Json, Layout, ModelConfig, NormKind, QkNorm, RopeScaling};
use candle_core::Result;
use candle_nn::VarBuilder;

pub fn parse(j: &Json) -> std::result::Result<ModelConfig, String> {
    let (heads, _, head_dim) = j.heads()?;
    let layers = j.usize("num_hidden_layers")?;
    let params = j.0.get("rope_parameters");
    let pct = j
        .opt_f64("rotary_pct")
        .or_else(|| {
            params
                .and_then(|p| p.get("partial_rotary_factor"))
                .and_then(|v| v.as_f64())
        })
        .unwrap_or(0.25);
    let rotary_dims = (head_dim as f64 * pct) as usize;
    let bias = j.bool_or("attention_bias", true);
    Ok(ModelConfig {
        model_type: "gpt_neox".into(),
        vocab_size: j.usize("vocab_size")?,
        hidden_size: j.usize("hidden_size")?,
        intermediate_size: j.usize("intermediate_size")?,
        num_layers: layers,
        num_heads: heads,
        num_kv_heads: heads,
        head_dim,
        norm: NormKind::Layer,
        norm_eps: j.f64_or("layer_norm_eps", 1e-5),
        layout: if j.bool_or("use_parallel_residual", true) {
            Layout::Parallel
        } else {
            Layout::PreNorm
        },
        activation: Activation::parse(j.str("hidden_act").unwrap_or("gelu"))?,
        gated_mlp: false,
        rope_theta: j.rope_theta("rotary_emb_base", 10000.0),
        rope_scaling: match j.rope_scaling()? {
            RopeScaling::None => RopeScaling::None,
            other => {
                return Err(format!(
                    "gpt_neox with rope scaling {other:?} is not supported"
                ))
            }
        },
        rotary_dims,
        tie_word_embeddings: j.bool_or("tie_word_embeddings", false),
        attention_bias: bias,
        attention_out_bias: bias,
        mlp_bias: true,
        clip_qkv: None,
        qk_norm: QkNorm::None,
        local_rope: None,
        scale_embeddings: false,
        query_pre_attn_scalar: head_dim as f64,
        attn_logit_softcapping: None,
        final_logit_softcapping: None,
        sliding_window: vec![None; layers],
        learned_positions: None,
    })
}

pub fn load(cfg: &ModelConfig, vb: VarBuilder) -> Result<Decoder> {
    let (d, f) = (cfg.hidden_size, cfg.intermediate_size);
    let qd = cfg.num_heads * cfg.head_dim;
    let m = vb.pp("gpt_neox");
    let embed = candle_nn::embedding(cfg.vocab_size, d, m.pp("embed_in"))?;
    let norm = |vb: VarBuilder| Norm::load(cfg.norm, d, cfg.norm_eps, vb);
    let mut blocks = Vec::with_capacity(cfg.num_layers);
    for i in 0..cfg.num_layers {
        let b = m.pp(format!("layers.{i}"));
        let a = b.pp("attention");
        blocks.push(Block {
            attn_norm: Some(norm(b.pp("input_layernorm"))?),
            attn: Attention {
                qkv: Qkv::PerHead(decoder::linear(
                    d,
                    3 * qd,
                    cfg.attention_bias,
                    a.pp("query_key_value"),
                )?),
                o: decoder::linear(qd, d, cfg.attention_out_bias, a.pp("dense"))?,
                q_norm: None,
                k_norm: None,
                window: None,
            },
            attn_post_norm: None,
            mlp_norm: Some(norm(b.pp("post_attention_layernorm"))?),
            mlp: Mlp::Plain {
                up: decoder::linear(d, f, true, b.pp("mlp.dense_h_to_4h"))?,
                down: decoder::linear(f, d, true, b.pp("mlp.dense_4h_to_h"))?,
                act: cfg.activation,
            },
            mlp_post_norm: None,
        });
    }
    let final_norm = norm(m.pp("final_layer_norm"))?;
    let lm_head = decoder::lm_head(cfg, &embed, &vb, "embed_out")?;
    Ok(Decoder {
        cfg: cfg.clone(),
        embed,
        positions: None,
        blocks,
        final_norm,
        lm_head,
    })
}
