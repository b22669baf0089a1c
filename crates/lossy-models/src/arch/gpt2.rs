//! GPT-2: learned absolute position embeddings, LayerNorm with bias, `Conv1D`
//! weights stored [in, out], one fused q/k/v projection laid out [q | k | v],
//! tanh GELU, tied LM head. Weights may or may not carry the `transformer.`
//! prefix (both occur on the hub).

use super::hf::{default, required};
use super::{decoder, Attention, Block, Decoder, Mlp, Norm, Qkv};
use crate::config::{Activation, ModelConfig, NormKind, Shape};
use candle_core::Result;
use candle_nn::VarBuilder;
use serde::Deserialize;

/// A GPT-2 `config.json`, with the defaults of transformers' `GPT2Config`
/// (`models/gpt2/configuration_gpt2.py`: `n_inner` 4 × `n_embd`,
/// `n_positions` 1024, gelu_new, eps 1e-5, tied embeddings).
#[derive(Debug, Deserialize)]
pub struct Gpt2Config {
    pub vocab_size: Option<usize>,
    pub n_embd: Option<usize>,
    pub n_head: Option<usize>,
    pub n_layer: Option<usize>,
    pub n_inner: Option<usize>,
    pub n_positions: Option<usize>,
    #[serde(default = "gelu_new")]
    pub activation_function: String,
    #[serde(default = "default::eps_1e5")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "default::yes")]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub scale_attn_by_inverse_layer_idx: bool,
    #[serde(default)]
    pub reorder_and_upcast_attn: bool,
}

fn gelu_new() -> String {
    "gelu_new".into()
}

impl Gpt2Config {
    pub fn to_model(&self) -> std::result::Result<ModelConfig, String> {
        let d = required("n_embd", self.n_embd)?;
        let heads = required("n_head", self.n_head)?;
        let layers = required("n_layer", self.n_layer)?;
        if self.scale_attn_by_inverse_layer_idx || self.reorder_and_upcast_attn {
            return Err(
                "gpt2 with scale_attn_by_inverse_layer_idx or reorder_and_upcast_attn is not supported"
                    .into(),
            );
        }
        let shape = Shape {
            vocab_size: required("vocab_size", self.vocab_size)?,
            hidden_size: d,
            intermediate_size: self.n_inner.unwrap_or(4 * d),
            num_layers: layers,
            num_heads: heads,
            num_kv_heads: heads,
            // heads = 0 is refused by `ModelConfig::check`
            head_dim: d / heads.max(1),
        };
        let mut cfg = ModelConfig::llama_like("gpt2", shape);
        cfg.norm = NormKind::Layer;
        cfg.norm_eps = self.layer_norm_epsilon;
        cfg.activation = Activation::parse(&self.activation_function)?;
        cfg.gated_mlp = false;
        // learned positions instead of rotary embeddings
        cfg.rope_theta = 0.0;
        cfg.rotary_dims = 0;
        cfg.learned_positions = Some(self.n_positions.unwrap_or(1024));
        cfg.tie_word_embeddings = self.tie_word_embeddings;
        cfg.attention_bias = true;
        cfg.attention_out_bias = true;
        cfg.mlp_bias = true;
        Ok(cfg)
    }
}

pub fn parse(text: &str) -> std::result::Result<ModelConfig, String> {
    super::read::<Gpt2Config>(text)?.to_model()
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
