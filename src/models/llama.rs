//! Llama-family decoder (Llama 2/3.x, SmolLM/SmolLM2, Mistral-style):
//! RMSNorm pre-norm blocks, rotary position embeddings in the half-split
//! ("rotate_half") layout, grouped-query attention, SwiGLU MLP, optional
//! attention/MLP biases, tied or untied LM head.
//!
//! Written against HF transformers' `modeling_llama.py` semantics and checked
//! layer by layer against its `output_hidden_states` (tests/integration).

use super::config::ModelConfig;
use super::engine::{Batch, HiddenStates, LayerSink};
use super::ModelError;
use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Embedding, Linear, RmsNorm, VarBuilder};

struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

struct Mlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

struct Block {
    input_norm: RmsNorm,
    attn: Attention,
    post_norm: RmsNorm,
    mlp: Mlp,
}

pub struct Llama {
    embed: Embedding,
    blocks: Vec<Block>,
    norm: RmsNorm,
    lm_head: Linear,
    inv_freq: Vec<f64>,
}

fn linear(in_dim: usize, out_dim: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    candle_nn::linear_b(in_dim, out_dim, bias, vb)
}

impl Llama {
    pub fn load(cfg: &ModelConfig, vb: VarBuilder) -> Result<Self> {
        let (d, hd) = (cfg.hidden_size, cfg.head_dim);
        let m = vb.pp("model");
        let embed = candle_nn::embedding(cfg.vocab_size, d, m.pp("embed_tokens"))?;
        let mut blocks = Vec::with_capacity(cfg.num_layers);
        for i in 0..cfg.num_layers {
            let b = m.pp(format!("layers.{i}"));
            let a = b.pp("self_attn");
            let attn = Attention {
                q: linear(d, cfg.num_heads * hd, cfg.attention_bias, a.pp("q_proj"))?,
                k: linear(d, cfg.num_kv_heads * hd, cfg.attention_bias, a.pp("k_proj"))?,
                v: linear(d, cfg.num_kv_heads * hd, cfg.attention_bias, a.pp("v_proj"))?,
                o: linear(cfg.num_heads * hd, d, cfg.attention_bias, a.pp("o_proj"))?,
                heads: cfg.num_heads,
                kv_heads: cfg.num_kv_heads,
                head_dim: hd,
            };
            let p = b.pp("mlp");
            let mlp = Mlp {
                gate: linear(d, cfg.intermediate_size, cfg.mlp_bias, p.pp("gate_proj"))?,
                up: linear(d, cfg.intermediate_size, cfg.mlp_bias, p.pp("up_proj"))?,
                down: linear(cfg.intermediate_size, d, cfg.mlp_bias, p.pp("down_proj"))?,
            };
            blocks.push(Block {
                input_norm: candle_nn::rms_norm(d, cfg.rms_norm_eps, b.pp("input_layernorm"))?,
                attn,
                post_norm: candle_nn::rms_norm(d, cfg.rms_norm_eps, b.pp("post_attention_layernorm"))?,
                mlp,
            });
        }
        let norm = candle_nn::rms_norm(d, cfg.rms_norm_eps, m.pp("norm"))?;
        let lm_head = if cfg.tie_word_embeddings || !vb.contains_tensor("lm_head.weight") {
            Linear::new(embed.embeddings().clone(), None)
        } else {
            candle_nn::linear_no_bias(d, cfg.vocab_size, vb.pp("lm_head"))?
        };
        if cfg.hidden_act != "silu" {
            candle_core::bail!("hidden_act `{}` is not supported for llama (only silu)", cfg.hidden_act);
        }
        Ok(Self { embed, blocks, norm, lm_head, inv_freq: cfg.rope_scaling.inv_freq(hd, cfg.rope_theta) })
    }

    /// cos and sin tables `[seq, head_dim/2]` for positions 0..seq.
    fn rotary(&self, seq: usize, device: &candle_core::Device) -> Result<(Tensor, Tensor)> {
        let half = self.inv_freq.len();
        let mut cos = Vec::with_capacity(seq * half);
        let mut sin = Vec::with_capacity(seq * half);
        for pos in 0..seq {
            for &f in &self.inv_freq {
                // transformers computes the angle in f32
                let angle = (pos as f32) * (f as f32);
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        Ok((Tensor::from_vec(cos, (seq, half), device)?, Tensor::from_vec(sin, (seq, half), device)?))
    }

    fn blocks_forward(&self, batch: &Batch, mut each: impl FnMut(usize, &Tensor) -> bool) -> Result<Option<Tensor>> {
        let (cos, sin) = self.rotary(batch.seq_len, batch.ids.device())?;
        let mut x = self.embed.forward(&batch.ids)?;
        if !each(0, &x) {
            return Ok(None);
        }
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.forward(&x, &cos, &sin, &batch.mask)?;
            if !each(i + 1, &x) {
                return Ok(None);
            }
        }
        Ok(Some(x))
    }

    pub fn forward(&self, batch: &Batch, convention: HiddenStates, sink: &mut dyn LayerSink) -> std::result::Result<bool, ModelError> {
        let last = self.blocks.len();
        let mut norm_err = None;
        let finished = self.blocks_forward(batch, |i, x| {
            let shown = if i == last && convention == HiddenStates::Hf {
                match self.norm.forward(x) {
                    Ok(t) => t,
                    Err(e) => {
                        norm_err = Some(e);
                        return false;
                    }
                }
            } else {
                x.clone()
            };
            sink.layer(i, &shown).is_continue()
        })?;
        if let Some(e) = norm_err {
            return Err(e.into());
        }
        Ok(finished.is_some())
    }

    /// Logits at the last position of the (single) sequence.
    pub fn last_logits(&self, batch: &Batch) -> Result<Vec<f32>> {
        let x = self.blocks_forward(batch, |_, _| true)?.expect("not stopped");
        let t = batch.lengths[0];
        let last = x.narrow(1, t - 1, 1)?;
        let logits = self.lm_head.forward(&self.norm.forward(&last)?)?;
        logits.flatten_all()?.to_dtype(DType::F32)?.to_vec1()
    }
}

impl Block {
    fn forward(&self, x: &Tensor, cos: &Tensor, sin: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let h = (x + self.attn.forward(&self.input_norm.forward(x)?, cos, sin, mask)?)?;
        &h + self.mlp.forward(&self.post_norm.forward(&h)?)?
    }
}

impl Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let gate = candle_nn::ops::silu(&self.gate.forward(x)?)?;
        self.down.forward(&(gate * self.up.forward(x)?)?)
    }
}

impl Attention {
    fn forward(&self, x: &Tensor, cos: &Tensor, sin: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let hd = self.head_dim;
        let split = |y: Tensor, heads: usize| -> Result<Tensor> { y.reshape((b, t, heads, hd))?.transpose(1, 2)?.contiguous() };
        let q = split(self.q.forward(x)?, self.heads)?;
        let k = split(self.k.forward(x)?, self.kv_heads)?;
        let v = split(self.v.forward(x)?, self.kv_heads)?;
        let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;
        let k = repeat_kv(k, self.heads / self.kv_heads)?;
        let v = repeat_kv(v, self.heads / self.kv_heads)?;
        let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, self.heads * hd))?;
        self.o.forward(&out)
    }
}

/// Repeats each key/value head `n` times (grouped-query attention).
pub fn repeat_kv(x: Tensor, n: usize) -> Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, kv, t, hd) = x.dims4()?;
    x.unsqueeze(2)?.expand((b, kv, n, t, hd))?.reshape((b, kv * n, t, hd))
}

