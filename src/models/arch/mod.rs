//! The architectures lossy runs: one file each for what differs (how
//! `config.json` reads, which weights go where), on the shared
//! [`super::decoder`]. `model_type` selects the architecture.

mod gemma;
mod gemma2;
mod gemma3;
mod gpt2;
mod gpt_neox;
mod llama;
mod olmo;
mod olmo2;
mod qwen2;

use super::config::{Json, Layout, ModelConfig, QkNorm};
use super::decoder::{self, Attention, Block, Decoder, Mlp, Norm, Qkv};
use super::linear::Linear;
use super::quantized::QuantizedWeight;
use candle_core::Result;
use candle_nn::VarBuilder;
use std::collections::HashMap;

/// An architecture: how to read its config and load its weights.
pub struct Arch {
    pub model_type: &'static str,
    pub parse: fn(&Json) -> std::result::Result<ModelConfig, String>,
    pub load: fn(&ModelConfig, VarBuilder) -> Result<Decoder>,
}

const ALL: &[Arch] = &[
    Arch {
        model_type: "llama",
        parse: llama::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "mistral",
        parse: llama::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "qwen2",
        parse: qwen2::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "olmo",
        parse: olmo::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "olmo2",
        parse: olmo2::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "gemma",
        parse: gemma::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "gemma2",
        parse: gemma2::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "gemma3_text",
        parse: gemma3::parse,
        load: hf_decoder,
    },
    Arch {
        model_type: "gpt_neox",
        parse: gpt_neox::parse,
        load: gpt_neox::load,
    },
    Arch {
        model_type: "gpt2",
        parse: gpt2::parse,
        load: gpt2::load,
    },
];

/// `model_type`s lossy supports.
pub const SUPPORTED: &[&str] = &[
    "llama",
    "mistral",
    "qwen2",
    "olmo",
    "olmo2",
    "gemma",
    "gemma2",
    "gemma3_text",
    "gpt_neox",
    "gpt2",
];

pub fn find(model_type: &str) -> Option<&'static Arch> {
    ALL.iter().find(|a| a.model_type == model_type)
}

/// The Hugging Face `model.layers.N.{self_attn,mlp}` layout shared by Llama,
/// Qwen2, OLMo, OLMo-2 and Gemma 1–3; the config says which norms exist.
fn hf_decoder(cfg: &ModelConfig, vb: VarBuilder) -> Result<Decoder> {
    hf_decoder_with(cfg, vb, HashMap::new())
}

/// Loads a GGUF model's decoder: `quantized` holds its projection weights
/// under their Hugging Face names (`….q_proj.weight`, `lm_head.weight`),
/// `vb` everything else.
pub fn gguf_decoder(
    cfg: &ModelConfig,
    vb: VarBuilder,
    quantized: HashMap<String, QuantizedWeight>,
) -> Result<Decoder> {
    hf_decoder_with(cfg, vb, quantized)
}

/// A projection: quantized if `quantized` has its weight, else from `vb`.
fn projection(
    quantized: &mut HashMap<String, QuantizedWeight>,
    in_dim: usize,
    out_dim: usize,
    bias: bool,
    vb: VarBuilder,
) -> Result<Linear> {
    let Some(q) = quantized.remove(&format!("{}.weight", vb.prefix())) else {
        return decoder::linear(in_dim, out_dim, bias, vb);
    };
    if (q.rows(), q.cols()) != (out_dim, in_dim) {
        candle_core::bail!(
            "{}.weight is [{}, {}], expected [{out_dim}, {in_dim}]",
            vb.prefix(),
            q.rows(),
            q.cols()
        );
    }
    Ok(Linear::quantized(
        q,
        if bias {
            Some(vb.get(out_dim, "bias")?)
        } else {
            None
        },
    ))
}

fn hf_decoder_with(
    cfg: &ModelConfig,
    vb: VarBuilder,
    mut quantized: HashMap<String, QuantizedWeight>,
) -> Result<Decoder> {
    let (d, hd, f) = (cfg.hidden_size, cfg.head_dim, cfg.intermediate_size);
    let (qd, kvd) = (cfg.num_heads * hd, cfg.num_kv_heads * hd);
    let m = vb.pp("model");
    let embed = candle_nn::embedding(cfg.vocab_size, d, m.pp("embed_tokens"))?;
    let norm = |size: usize, vb: VarBuilder| Norm::load(cfg.norm, size, cfg.norm_eps, vb);
    let qk_sizes = match cfg.qk_norm {
        QkNorm::None => None,
        QkNorm::Full => Some((qd, kvd)),
        QkNorm::PerHead => Some((hd, hd)),
    };
    let mut blocks = Vec::with_capacity(cfg.num_layers);
    for i in 0..cfg.num_layers {
        let b = m.pp(format!("layers.{i}"));
        let a = b.pp("self_attn");
        let p = b.pp("mlp");
        let attn = Attention {
            qkv: Qkv::Blocks(Linear::concat(&[
                projection(&mut quantized, d, qd, cfg.attention_bias, a.pp("q_proj"))?,
                projection(&mut quantized, d, kvd, cfg.attention_bias, a.pp("k_proj"))?,
                projection(&mut quantized, d, kvd, cfg.attention_bias, a.pp("v_proj"))?,
            ])?),
            o: projection(
                &mut quantized,
                qd,
                d,
                cfg.attention_out_bias,
                a.pp("o_proj"),
            )?,
            q_norm: qk_sizes.map(|(q, _)| norm(q, a.pp("q_norm"))).transpose()?,
            k_norm: qk_sizes.map(|(_, k)| norm(k, a.pp("k_norm"))).transpose()?,
            window: cfg.sliding_window[i],
        };
        let mlp = Mlp::Gated {
            gate_up: Linear::concat(&[
                projection(&mut quantized, d, f, cfg.mlp_bias, p.pp("gate_proj"))?,
                projection(&mut quantized, d, f, cfg.mlp_bias, p.pp("up_proj"))?,
            ])?,
            down: projection(&mut quantized, f, d, cfg.mlp_bias, p.pp("down_proj"))?,
            act: cfg.activation,
        };
        let n = |name: &str| norm(d, b.pp(name));
        let block = match cfg.layout {
            Layout::PreNorm | Layout::Parallel => Block {
                attn_norm: Some(n("input_layernorm")?),
                attn,
                attn_post_norm: None,
                mlp_norm: Some(n("post_attention_layernorm")?),
                mlp,
                mlp_post_norm: None,
            },
            Layout::PostNorm => Block {
                attn_norm: None,
                attn,
                attn_post_norm: Some(n("post_attention_layernorm")?),
                mlp_norm: None,
                mlp,
                mlp_post_norm: Some(n("post_feedforward_layernorm")?),
            },
            Layout::Sandwich => Block {
                attn_norm: Some(n("input_layernorm")?),
                attn,
                attn_post_norm: Some(n("post_attention_layernorm")?),
                mlp_norm: Some(n("pre_feedforward_layernorm")?),
                mlp,
                mlp_post_norm: Some(n("post_feedforward_layernorm")?),
            },
        };
        blocks.push(block);
    }
    let final_norm = norm(d, m.pp("norm"))?;
    let lm_head = match quantized
        .remove("lm_head.weight")
        .filter(|_| !cfg.tie_word_embeddings)
    {
        Some(q) => Linear::quantized(q, None),
        None => decoder::lm_head(cfg, &embed, &vb, "lm_head")?,
    };
    Ok(Decoder {
        cfg: cfg.clone(),
        embed,
        positions: None,
        blocks,
        final_norm,
        lm_head,
    })
}
