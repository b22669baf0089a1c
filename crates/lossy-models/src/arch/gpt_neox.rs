//! GPT-NeoX (Pythia): LayerNorm with bias, one fused q/k/v projection laid
//! out per head as [heads, 3, head_dim], rotary embeddings on the first
//! `rotary_pct` of each head, a parallel residual
//! x + attn(ln1(x)) + mlp(ln2(x)) (or sequential), exact GELU, untied
//! `embed_out`.

use super::hf::{default, Rope, Sizes};
use super::{decoder, Attention, Block, Decoder, Mlp, Norm, Qkv};
use crate::config::{Activation, Layout, ModelConfig, NormKind, RopeScaling};
use candle_core::Result;
use candle_nn::VarBuilder;
use serde::Deserialize;

/// A GPT-NeoX `config.json`, with the defaults of transformers'
/// `GPTNeoXConfig` (`models/gpt_neox/configuration_gpt_neox.py`: rotary on
/// 25% of each head (`rotary_pct`, or `rope_parameters.partial_rotary_factor`),
/// base 10000 (`rotary_emb_base`), parallel residual, exact GELU, eps 1e-5,
/// biases, untied `embed_out`).
#[derive(Debug, Deserialize)]
pub struct GptNeoXConfig {
    #[serde(flatten)]
    pub sizes: Sizes,
    pub rotary_pct: Option<f64>,
    pub rotary_emb_base: Option<f64>,
    #[serde(flatten)]
    pub rope: Rope,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default = "default::eps_1e5")]
    pub layer_norm_eps: f64,
    #[serde(default = "default::yes")]
    pub use_parallel_residual: bool,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default = "default::yes")]
    pub attention_bias: bool,
}

fn gelu() -> String {
    "gelu".into()
}

impl GptNeoXConfig {
    pub fn to_model(&self) -> std::result::Result<ModelConfig, String> {
        let mut shape = self.sizes.shape(None, None)?;
        shape.num_kv_heads = shape.num_heads;
        let pct = self
            .rotary_pct
            .or_else(|| self.rope.rope_parameters.as_ref()?.partial_rotary_factor)
            .unwrap_or(0.25);
        let mut cfg = ModelConfig::llama_like("gpt_neox", shape);
        cfg.rotary_dims = (shape.head_dim as f64 * pct) as usize;
        cfg.norm = NormKind::Layer;
        cfg.norm_eps = self.layer_norm_eps;
        cfg.layout = if self.use_parallel_residual {
            Layout::Parallel
        } else {
            Layout::PreNorm
        };
        cfg.activation = Activation::parse(&self.hidden_act)?;
        cfg.gated_mlp = false;
        cfg.rope_theta = self
            .rotary_emb_base
            .or_else(|| self.rope.rope_parameters.as_ref()?.rope_theta)
            .unwrap_or(10000.0);
        cfg.rope_scaling = match self.rope.scaling()? {
            RopeScaling::None => RopeScaling::None,
            other => {
                return Err(format!(
                    "gpt_neox with rope scaling {other:?} is not supported"
                ))
            }
        };
        cfg.tie_word_embeddings = self.tie_word_embeddings;
        cfg.attention_bias = self.attention_bias;
        cfg.attention_out_bias = self.attention_bias;
        cfg.mlp_bias = true;
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> std::result::Result<ModelConfig, String> {
    super::read::<GptNeoXConfig>(text)?.to_model()
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
