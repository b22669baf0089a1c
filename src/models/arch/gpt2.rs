//! GPT-2: learned absolute position embeddings, LayerNorm with bias, `Conv1D`
//! weights stored [in, out], one fused q/k/v projection laid out [q | k | v],
//! tanh GELU, tied LM head. Weights may or may not carry the `transformer.`
//! prefix (both occur on the hub).

use super::{decoder, Attention, Block, Decoder, Mlp, Norm, Qkv};
use crate::models::config::{Activation, Json, Layout, ModelConfig, NormKind, QkNorm, RopeScaling};
use candle_core::Result;
use candle_nn::VarBuilder;

pub fn parse(j: &Json) -> std::result::Result<ModelConfig, String> {
    let d = j.usize("n_embd")?;
    let heads = j.usize("n_head")?;
    let layers = j.usize("n_layer")?;
    if j.bool_or("scale_attn_by_inverse_layer_idx", false)
        || j.bool_or("reorder_and_upcast_attn", false)
    {
        return Err(
            "gpt2 with scale_attn_by_inverse_layer_idx or reorder_and_upcast_attn is not supported"
                .into(),
        );
    }
    Ok(ModelConfig {
        model_type: "gpt2".into(),
        vocab_size: j.usize("vocab_size")?,
        hidden_size: d,
        intermediate_size: j.opt_usize("n_inner").unwrap_or(4 * d),
        num_layers: layers,
        num_heads: heads,
        num_kv_heads: heads,
        head_dim: d / heads,
        norm: NormKind::Layer,
        norm_eps: j.f64_or("layer_norm_epsilon", 1e-5),
        layout: Layout::PreNorm,
        activation: Activation::parse(j.str("activation_function").unwrap_or("gelu_new"))?,
        gated_mlp: false,
        rope_theta: 0.0,
        rope_scaling: RopeScaling::None,
        local_rope: None,
        rotary_dims: 0,
        tie_word_embeddings: j.bool_or("tie_word_embeddings", true),
        attention_bias: true,
        attention_out_bias: true,
        mlp_bias: true,
        clip_qkv: None,
        qk_norm: QkNorm::None,
        scale_embeddings: false,
        query_pre_attn_scalar: (d / heads) as f64,
        attn_logit_softcapping: None,
        final_logit_softcapping: None,
        sliding_window: vec![None; layers],
        learned_positions: Some(j.opt_usize("n_positions").unwrap_or(1024)),
    })
}

pub fn load(cfg: &ModelConfig, vb: VarBuilder) -> Result<Decoder> {
    let (d, f) = (cfg.hidden_size, cfg.intermediate_size);
    let m = if vb.contains_tensor("transformer.wte.weight") {
        vb.pp("transformer")
    } else {
        vb.clone()
    };
    let embed = candle_nn::embedding(cfg.vocab_size, d, m.pp("wte"))?;
    let positions = candle_nn::embedding(cfg.learned_positions.unwrap_or(1024), d, m.pp("wpe"))?;
    let norm = |vb: VarBuilder| Norm::load(cfg.norm, d, cfg.norm_eps, vb);
    let mut blocks = Vec::with_capacity(cfg.num_layers);
    for i in 0..cfg.num_layers {
        let b = m.pp(format!("h.{i}"));
        blocks.push(Block {
            attn_norm: Some(norm(b.pp("ln_1"))?),
            attn: Attention {
                qkv: Qkv::Blocks(decoder::conv1d(d, 3 * d, b.pp("attn.c_attn"))?),
                o: decoder::conv1d(d, d, b.pp("attn.c_proj"))?,
                q_norm: None,
                k_norm: None,
                window: None,
            },
            attn_post_norm: None,
            mlp_norm: Some(norm(b.pp("ln_2"))?),
            mlp: Mlp::Plain {
                up: decoder::conv1d(d, f, b.pp("mlp.c_fc"))?,
                down: decoder::conv1d(f, d, b.pp("mlp.c_proj"))?,
                act: cfg.activation,
            },
            mlp_post_norm: None,
        });
    }
    let final_norm = norm(m.pp("ln_f"))?;
    let lm_head = decoder::lm_head(cfg, &embed, &vb, "lm_head")?;
    Ok(Decoder {
        cfg: cfg.clone(),
        embed,
        positions: Some(positions),
        blocks,
        final_norm,
        lm_head,
    })
}
