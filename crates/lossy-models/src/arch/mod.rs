//! The architectures lossy runs: one file each for what differs (how
//! `config.json` reads, which weights go where), on the shared
//! [`super::decoder`]. `model_type` selects the architecture.

mod gemma;
mod gemma2;
mod gemma3;
mod gpt2;
mod gpt_neox;
mod hf;
mod llama;
mod olmo;
mod olmo2;
mod qwen2;

use super::config::{Layout, ModelConfig, QkNorm};
use super::decoder::{self, Attention, Block, Decoder, Mlp, Norm, Qkv};
use super::linear::Linear;
use super::quantized::QuantizedWeight;
use super::ModelError;
use candle_core::Result;
use candle_nn::VarBuilder;
use std::collections::HashMap;
use std::path::Path;

/// An architecture: how to read its config and load its weights.
pub struct Arch {
    pub model_type: &'static str,
    /// Reads `config.json` (its text) into the architecture's typed config
    /// and converts that into the shared decoder's.
    pub parse: fn(&str) -> std::result::Result<ModelConfig, String>,
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

impl ModelConfig {
    /// Reads `config.json` and parses it with its architecture's rules.
    pub fn from_file(path: &Path) -> std::result::Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.into(),
            source,
        })?;
        let bad = |reason: String| ModelError::Config {
            path: path.into(),
            reason,
        };
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let model_type = json
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let arch = find(&model_type).ok_or_else(|| ModelError::Unsupported {
            path: path.into(),
            model_type,
            supported: SUPPORTED.join(", "),
        })?;
        let cfg = (arch.parse)(&text).map_err(bad)?;
        cfg.check().map_err(bad)?;
        Ok(cfg)
    }
}

/// Deserializes a `config.json` into an architecture's config struct; the
/// error names the line and column (serde's message).
fn read<'a, T: serde::Deserialize<'a>>(text: &'a str) -> std::result::Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
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
    let m = vb.pp("model");
    let embed = candle_nn::embedding(cfg.vocab_size, cfg.hidden_size, m.pp("embed_tokens"))?;
    let blocks = (0..cfg.num_layers)
        .map(|i| hf_block(cfg, i, m.pp(format!("layers.{i}")), &mut quantized))
        .collect::<Result<Vec<_>>>()?;
    let final_norm = Norm::load(cfg.norm, cfg.hidden_size, cfg.norm_eps, m.pp("norm"))?;
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

/// Layer `i` (`model.layers.{i}`, in `b`): attention, MLP and the norms
/// the config's layout places around them.
fn hf_block(
    cfg: &ModelConfig,
    i: usize,
    b: VarBuilder,
    quantized: &mut HashMap<String, QuantizedWeight>,
) -> Result<Block> {
    let (d, f) = (cfg.hidden_size, cfg.intermediate_size);
    let attn = hf_attention(cfg, i, b.pp("self_attn"), quantized)?;
    let p = b.pp("mlp");
    let mlp = Mlp::Gated {
        gate_up: Linear::concat(&[
            projection(quantized, d, f, cfg.mlp_bias, p.pp("gate_proj"))?,
            projection(quantized, d, f, cfg.mlp_bias, p.pp("up_proj"))?,
        ])?,
        down: projection(quantized, f, d, cfg.mlp_bias, p.pp("down_proj"))?,
        act: cfg.activation,
    };
    let n = |name: &str| Norm::load(cfg.norm, d, cfg.norm_eps, b.pp(name));
    Ok(match cfg.layout {
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
    })
}

/// Layer `i`'s attention (`….self_attn`, in `a`): q, k, v fused into one
/// projection, the output projection, and the q/k norms if any.
fn hf_attention(
    cfg: &ModelConfig,
    i: usize,
    a: VarBuilder,
    quantized: &mut HashMap<String, QuantizedWeight>,
) -> Result<Attention> {
    let (d, hd) = (cfg.hidden_size, cfg.head_dim);
    let (qd, kvd) = (cfg.num_heads * hd, cfg.num_kv_heads * hd);
    let bias = cfg.attention_bias;
    let norm = |size: usize, vb: VarBuilder| Norm::load(cfg.norm, size, cfg.norm_eps, vb);
    let qk_sizes = match cfg.qk_norm {
        QkNorm::None => None,
        QkNorm::Full => Some((qd, kvd)),
        QkNorm::PerHead => Some((hd, hd)),
    };
    Ok(Attention {
        qkv: Qkv::Blocks(Linear::concat(&[
            projection(quantized, d, qd, bias, a.pp("q_proj"))?,
            projection(quantized, d, kvd, bias, a.pp("k_proj"))?,
            projection(quantized, d, kvd, bias, a.pp("v_proj"))?,
        ])?),
        o: projection(quantized, qd, d, cfg.attention_out_bias, a.pp("o_proj"))?,
        q_norm: qk_sizes.map(|(q, _)| norm(q, a.pp("q_norm"))).transpose()?,
        k_norm: qk_sizes.map(|(_, k)| norm(k, a.pp("k_norm"))).transpose()?,
        window: cfg.sliding_window[i],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, NormKind, RopeScaling};

    /// The config of `model_type` with only the size keys: every other
    /// field takes the default of the transformers config class.
    fn minimal(model_type: &str) -> ModelConfig {
        let j = if model_type == "gpt2" {
            serde_json::json!({"model_type": "gpt2", "vocab_size": 10, "n_embd": 8, "n_head": 2, "n_layer": 2})
        } else {
            serde_json::json!({"model_type": model_type, "vocab_size": 10, "hidden_size": 8,
                "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2})
        };
        (find(model_type).unwrap().parse)(&j.to_string()).unwrap()
    }

    #[test]
    fn absent_keys_take_the_transformers_defaults() {
        let c = minimal("llama");
        assert_eq!((c.num_kv_heads, c.head_dim, c.norm_eps), (2, 4, 1e-6));
        assert_eq!((c.rope_theta, c.tie_word_embeddings), (10000.0, false));
        assert_eq!(c.activation, Activation::Silu);
        // Qwen2Config: 32 key/value heads
        assert_eq!(minimal("qwen2").num_kv_heads, 32);
        // Olmo2Config: rms_norm_eps 1e-5; OLMo's LayerNorm: 1e-5
        assert_eq!(minimal("olmo2").norm_eps, 1e-5);
        assert_eq!(minimal("olmo").norm, NormKind::LayerNoParams);
        // GemmaConfig: 16 key/value heads, head_dim 256, tied
        let c = minimal("gemma");
        assert_eq!((c.num_kv_heads, c.head_dim), (16, 256));
        assert!(c.tie_word_embeddings && c.scale_embeddings);
        assert_eq!(c.activation, Activation::GeluTanh);
        // Gemma2Config: soft-capping 50 / 30, query_pre_attn_scalar 256,
        // sliding window 4096 on even layers
        let c = minimal("gemma2");
        assert_eq!(
            (c.attn_logit_softcapping, c.final_logit_softcapping),
            (Some(50.0), Some(30.0))
        );
        assert_eq!(c.query_pre_attn_scalar, 256.0);
        assert_eq!(c.sliding_window, vec![Some(4096), None]);
        // Gemma3TextConfig: no soft-capping, rotary bases 1e6 / 1e4
        let c = minimal("gemma3_text");
        assert_eq!((c.attn_logit_softcapping, c.rope_theta), (None, 1e6));
        assert_eq!(c.local_rope, Some((1e4, RopeScaling::None)));
        // GPT2Config: n_inner 4·n_embd, 1024 positions, gelu_new, tied
        let c = minimal("gpt2");
        assert_eq!((c.intermediate_size, c.learned_positions), (32, Some(1024)));
        assert_eq!((c.activation, c.rotary_dims), (Activation::GeluTanh, 0));
        // GPTNeoXConfig: rotary on 25% of each head, parallel residual, biases
        let c = minimal("gpt_neox");
        assert_eq!((c.rotary_dims, c.layout), (1, Layout::Parallel));
        assert!(c.attention_bias && c.mlp_bias && !c.tie_word_embeddings);
    }

    #[test]
    fn null_means_absent_and_bad_values_are_named() {
        let parse = |j: serde_json::Value| llama::parse(&j.to_string());
        let base = serde_json::json!({"model_type": "llama", "vocab_size": 10, "hidden_size": 8,
            "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": null, "head_dim": null, "rope_scaling": null});
        assert_eq!(parse(base.clone()).unwrap().num_kv_heads, 2);
        let with = |k: &str, v: serde_json::Value| {
            let mut j = base.clone();
            j[k] = v;
            parse(j).unwrap_err()
        };
        assert_eq!(
            with("hidden_size", serde_json::Value::Null),
            "`hidden_size` is missing or not a non-negative integer"
        );
        assert!(with("hidden_act", "relu2".into()).contains("activation `relu2` is not supported"));
        let e = with(
            "rope_scaling",
            serde_json::json!({"rope_type": "yarn", "factor": 2.0}),
        );
        assert!(
            e.contains("rope scaling type `yarn` is not supported"),
            "{e}"
        );
        let e = with(
            "rope_scaling",
            serde_json::json!({"rope_type": "llama3", "factor": 2.0}),
        );
        assert_eq!(e, "rope scaling of type `llama3` needs `low_freq_factor`");
        let e = with("rms_norm_eps", "small".into());
        assert!(e.contains("invalid type") && e.contains("line 1"), "{e}");
    }
}
