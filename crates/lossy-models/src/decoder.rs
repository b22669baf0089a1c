//! The shared decoder: embeddings, a stack of blocks and a final norm, with
//! the building blocks every architecture combines (norms, rotary
//! embeddings, grouped-query attention with optional soft-capping, sliding
//! windows, q/k norms and clipping, gated or plain MLPs). Architectures
//! (`arch/*.rs`) only map their weight names and options onto these parts.
//!
//! A batch is packed: its sequences lie one after another as `[1, tokens, d]`
//! with no padding, so projections, MLPs and norms (all per token) run over
//! real tokens only. Attention and rotary positions work per sequence
//! (positions restart at 0 for each), and there is no KV cache, so a batch
//! gives each sequence the states it would get alone.

use super::config::{Activation, Layout, ModelConfig, NormKind, QkNorm, RopeScaling};
use candle_core::{DType, Device, Module, Result, Tensor};

/// The dtype the decoder computes in (that of its embedding weights).
fn dtype_of(d: &Decoder) -> DType {
    d.embed.embeddings().dtype()
}
use super::cpu_attention;
use super::gated::{activation, gated};
use super::linear::Linear;
use candle_nn::{Embedding, VarBuilder};
use std::collections::HashMap;

/// A normalisation layer.
pub struct Norm {
    kind: NormKind,
    weight: Option<Tensor>,
    bias: Option<Tensor>,
    eps: f32,
}

impl Norm {
    /// Loads `weight` (and `bias` for LayerNorm) from `vb` as `kind` needs.
    pub fn load(kind: NormKind, size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        let (weight, bias) = match kind {
            NormKind::Rms => (Some(vb.get(size, "weight")?), None),
            NormKind::RmsPlusOne => (Some((vb.get(size, "weight")? + 1.0)?), None),
            NormKind::Layer => (Some(vb.get(size, "weight")?), Some(vb.get(size, "bias")?)),
            NormKind::LayerNoParams => {
                let dev = vb.device();
                (
                    Some(Tensor::ones(size, vb.dtype(), dev)?),
                    Some(Tensor::zeros(size, vb.dtype(), dev)?),
                )
            }
        };
        Ok(Self {
            kind,
            weight,
            bias,
            eps: eps as f32,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let w = self.weight.as_ref().expect("norm weight");
        match self.kind {
            NormKind::Rms | NormKind::RmsPlusOne => {
                candle_nn::ops::rms_norm(&x.contiguous()?, w, self.eps)
            }
            NormKind::Layer | NormKind::LayerNoParams => candle_nn::ops::layer_norm(
                &x.contiguous()?,
                w,
                self.bias.as_ref().expect("norm bias"),
                self.eps,
            ),
        }
    }
}

pub fn linear(in_dim: usize, out_dim: usize, bias: bool, vb: VarBuilder) -> Result<Linear> {
    let weight = vb.get((out_dim, in_dim), "weight")?;
    Linear::new(
        weight,
        if bias {
            Some(vb.get(out_dim, "bias")?)
        } else {
            None
        },
    )
}

/// A GPT-2 `Conv1D` (weight stored [in, out]) as a Linear.
pub fn conv1d(in_dim: usize, out_dim: usize, vb: VarBuilder) -> Result<Linear> {
    Linear::from_in_out(
        vb.get((in_dim, out_dim), "weight")?,
        Some(vb.get(out_dim, "bias")?),
    )
}

/// How q, k and v are projected: always one projection.
pub enum Qkv {
    /// Laid out per head as [heads, 3, head_dim] (GPT-NeoX).
    PerHead(Linear),
    /// Laid out as [q | k | v]: GPT-2's `c_attn`, and the separate
    /// q/k/v projections of the other families concatenated at load.
    Blocks(Linear),
}

pub struct Attention {
    pub qkv: Qkv,
    pub o: Linear,
    pub q_norm: Option<Norm>,
    pub k_norm: Option<Norm>,
    /// Sliding window (keys within this many positions), or global.
    pub window: Option<usize>,
}

pub enum Mlp {
    /// `down(act(gate(x)) · up(x))`, gate and up fused into one projection
    /// (gate's outputs first).
    Gated {
        gate_up: Linear,
        down: Linear,
        act: Activation,
    },
    Plain {
        up: Linear,
        down: Linear,
        act: Activation,
    },
}

pub struct Block {
    pub attn_norm: Option<Norm>,
    pub attn: Attention,
    pub attn_post_norm: Option<Norm>,
    pub mlp_norm: Option<Norm>,
    pub mlp: Mlp,
    pub mlp_post_norm: Option<Norm>,
}

pub struct Decoder {
    pub cfg: ModelConfig,
    pub embed: Embedding,
    pub positions: Option<Embedding>,
    pub blocks: Vec<Block>,
    pub final_norm: Norm,
    pub lm_head: Linear,
}

fn maybe(norm: &Option<Norm>, x: &Tensor) -> Result<Tensor> {
    match norm {
        Some(n) => n.forward(x),
        None => Ok(x.clone()),
    }
}

impl Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Mlp::Gated { gate_up, down, act } => down.forward(&gated(&gate_up.forward(x)?, *act)?),
            Mlp::Plain { up, down, act } => down.forward(&activation(*act, &up.forward(x)?)?),
        }
    }
}

/// Rotary cos/sin `[tokens, rotary_dims/2]`, one row per packed token.
struct Rotary {
    cos: Tensor,
    sin: Tensor,
}

/// Per-forward tables of a packed batch: each token's position in its
/// sequence, rotary cos/sin per token (global, and for sliding-window
/// layers where their base differs), the sequence lengths, and the causal
/// masks per (length, window) where candle's ops compute attention (not on
/// the CPU, see [`cpu_attention`]).
pub struct Context {
    positions: Vec<u32>,
    rotary: Option<Rotary>,
    local_rotary: Option<Rotary>,
    lengths: Vec<usize>,
    masks: HashMap<(usize, Option<usize>), Tensor>,
}

/// Whether attention runs as the fused CPU kernel: always on the CPU, in
/// f32 (bf16 and f16 inputs are widened, as transformers computes the
/// softmax in f32 for them).
fn fused_attention(device: &Device) -> bool {
    device.is_cpu()
}

impl Decoder {
    /// cos/sin `[tokens, rotary_dims/2]` at each token's `positions` entry,
    /// computed like transformers (angle in f32).
    fn rotary(
        &self,
        positions: &[u32],
        theta: f64,
        scaling: &RopeScaling,
        device: &Device,
    ) -> Result<Option<Rotary>> {
        let c = &self.cfg;
        if c.rotary_dims == 0 {
            return Ok(None);
        }
        let inv_freq = scaling.inv_freq(c.rotary_dims, theta);
        let half = inv_freq.len();
        let n = positions.len();
        let (mut cos, mut sin) = (Vec::with_capacity(n * half), Vec::with_capacity(n * half));
        for &pos in positions {
            for &f in &inv_freq {
                let angle = (pos as f32) * (f as f32);
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
        let dt = dtype_of(self);
        Ok(Some(Rotary {
            cos: Tensor::from_vec(cos, (n, half), device)?.to_dtype(dt)?,
            sin: Tensor::from_vec(sin, (n, half), device)?.to_dtype(dt)?,
        }))
    }

    /// Additive mask `[1, 1, t, t]` of one sequence: position i sees j ≤ i
    /// (and i − j < window for sliding layers).
    fn mask(t: usize, window: Option<usize>, device: &Device, dtype: DType) -> Result<Tensor> {
        let mut mask = vec![0f32; t * t];
        for i in 0..t {
            for j in 0..t {
                let outside = window.is_some_and(|w| i >= j + w);
                if j > i || outside {
                    mask[i * t + j] = f32::NEG_INFINITY;
                }
            }
        }
        Tensor::from_vec(mask, (1, 1, t, t), device)?.to_dtype(dtype)
    }

    /// The tables for sequences of `lengths` packed one after another.
    pub fn context(&self, lengths: &[usize], device: &Device) -> Result<Context> {
        let c = &self.cfg;
        let positions: Vec<u32> = lengths.iter().flat_map(|&l| 0..l as u32).collect();
        let rotary = self.rotary(&positions, c.rope_theta, &c.rope_scaling, device)?;
        let local_rotary = match &c.local_rope {
            Some((theta, scaling)) => self.rotary(&positions, *theta, scaling, device)?,
            None => None,
        };
        let mut masks = HashMap::new();
        if !fused_attention(device) {
            for w in self.blocks.iter().map(|b| b.attn.window) {
                for &len in lengths {
                    if let std::collections::hash_map::Entry::Vacant(e) = masks.entry((len, w)) {
                        e.insert(Self::mask(len, w, device, dtype_of(self))?);
                    }
                }
            }
        }
        Ok(Context {
            positions,
            rotary,
            local_rotary,
            lengths: lengths.to_vec(),
            masks,
        })
    }

    /// The embedding output (hidden state 0) of packed `ids` `[1, tokens]`.
    pub fn embed(&self, ids: &Tensor, ctx: &Context) -> Result<Tensor> {
        let mut x = self.embed.forward(ids)?;
        if self.cfg.scale_embeddings {
            // transformers multiplies by √d rounded to the activation dtype
            x = (x * ((self.cfg.hidden_size as f64).sqrt() as f32) as f64)?;
        }
        if let Some(pos) = &self.positions {
            let ids = Tensor::new(ctx.positions.as_slice(), ids.device())?;
            x = x.broadcast_add(&pos.forward(&ids)?)?;
        }
        Ok(x)
    }

    pub fn block(&self, i: usize, x: &Tensor, ctx: &Context) -> Result<Tensor> {
        let b = &self.blocks[i];
        let a = self.attention(&b.attn, &maybe(&b.attn_norm, x)?, ctx)?;
        let h = (x + maybe(&b.attn_post_norm, &a)?)?;
        let mlp_in = if self.cfg.layout == Layout::Parallel {
            x
        } else {
            &h
        };
        let m = b.mlp.forward(&maybe(&b.mlp_norm, mlp_in)?)?;
        &h + maybe(&b.mlp_post_norm, &m)?
    }

    /// Final norm then LM head (with soft-capping where the model has it).
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        self.head(&self.final_norm.forward(x)?)
    }

    /// The LM head (with soft-capping) on states the final norm was applied to.
    pub fn head(&self, normed: &Tensor) -> Result<Tensor> {
        let logits = self.lm_head.forward(normed)?;
        match self.cfg.final_logit_softcapping {
            Some(cap) => (logits / cap)?.tanh()? * cap,
            None => Ok(logits),
        }
    }

    fn attention(&self, at: &Attention, x: &Tensor, ctx: &Context) -> Result<Tensor> {
        let c = &self.cfg;
        let (b, t, _) = x.dims3()?;
        let (h, kvh, hd) = (c.num_heads, c.num_kv_heads, c.head_dim);
        // q, k and v as [b, t, heads, hd] views of the one projection's output
        let (mut q, mut k, mut v) = match &at.qkv {
            Qkv::PerHead(w) => {
                let qkv = w.forward(x)?.reshape((b, t, h, 3, hd))?;
                let part = |i| qkv.narrow(3, i, 1).and_then(|p| p.squeeze(3));
                (part(0)?, part(1)?, part(2)?)
            }
            Qkv::Blocks(w) => {
                let qkv = w.forward(x)?.reshape((b, t, h + 2 * kvh, hd))?;
                (
                    qkv.narrow(2, 0, h)?,
                    qkv.narrow(2, h, kvh)?,
                    qkv.narrow(2, h + kvh, kvh)?,
                )
            }
        };
        if let Some(clip) = c.clip_qkv {
            q = q.clamp(-clip, clip)?;
            k = k.clamp(-clip, clip)?;
            v = v.clamp(-clip, clip)?;
        }
        if let (Some(qn), Some(kn)) = (&at.q_norm, &at.k_norm) {
            if c.qk_norm == QkNorm::Full {
                // OLMo-2 normalises the whole projection, across heads
                q = qn.forward(&q.flatten_from(2)?)?.reshape((b, t, h, hd))?;
                k = kn.forward(&k.flatten_from(2)?)?.reshape((b, t, kvh, hd))?;
            } else {
                q = qn.forward(&q)?;
                k = kn.forward(&k)?;
            }
        }
        // [b, heads, t, hd], each copied once
        let heads_first = |y: Tensor| y.transpose(1, 2)?.contiguous();
        let (q, k, v) = (heads_first(q)?, heads_first(k)?, heads_first(v)?);
        let (q, k) = (
            self.rope(&q, at.window, ctx)?,
            self.rope(&k, at.window, ctx)?,
        );
        let scale = c.query_pre_attn_scalar.powf(-0.5);
        if fused_attention(q.device()) {
            let p = cpu_attention::Params {
                lengths: &ctx.lengths,
                scale: scale as f32,
                softcap: c.attn_logit_softcapping.map(|x| x as f32),
                window: at.window,
            };
            let f32 = |x: &Tensor| x.to_dtype(DType::F32);
            let out = cpu_attention::attend(&f32(&q)?, &f32(&k)?, &f32(&v)?, &p)?;
            return at.o.forward(&out.to_dtype(q.dtype())?);
        }
        let mut outs = Vec::with_capacity(ctx.lengths.len());
        let mut s0 = 0;
        for &len in &ctx.lengths {
            let one = |x: &Tensor| x.narrow(2, s0, len)?.contiguous();
            let mask = &ctx.masks[&(len, at.window)];
            outs.push(self.ops_attention(&one(&q)?, &one(&k)?, &one(&v)?, mask, scale)?);
            s0 += len;
        }
        debug_assert_eq!((b, s0), (1, t));
        at.o.forward(&Tensor::cat(&outs, 1)?)
    }

    /// Attention of one sequence from candle's ops (off the CPU): `q`
    /// `[1, h, t, hd]`, `k`, `v` `[1, kvh, t, hd]` → `[1, t, h·hd]`.
    fn ops_attention(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: &Tensor,
        scale: f64,
    ) -> Result<Tensor> {
        let c = &self.cfg;
        let (b, h, t, hd) = q.dims4()?;
        let kvh = k.dim(1)?;
        // Grouped-query attention without copying k and v per head: query
        // heads i·n … i·n+n−1 share kv head i, so the group's queries stack
        // into one [n·t, hd] matrix per kv head (a free reshape).
        let n = h / kvh;
        let q = q.reshape((b, kvh, n * t, hd))?;
        let mut scores = (q.matmul(&k.t()?)? * scale)?;
        if let Some(cap) = c.attn_logit_softcapping {
            scores = ((scores / cap)?.tanh()? * cap)?;
        }
        let scores = scores.reshape((b, h, t, t))?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?.reshape((b, kvh, n * t, t))?;
        probs
            .matmul(v)?
            .reshape((b, h, t, hd))?
            .transpose(1, 2)?
            .reshape((b, t, h * hd))
    }

    /// Rotary embeddings (half-split layout) on the first `rotary_dims` of
    /// each head, with the local table on sliding-window layers that have one.
    fn rope(&self, x: &Tensor, window: Option<usize>, ctx: &Context) -> Result<Tensor> {
        let table = match (&ctx.local_rotary, window) {
            (Some(local), Some(_)) => Some(local),
            _ => ctx.rotary.as_ref(),
        };
        let Some(Rotary { cos, sin }) = table else {
            return Ok(x.clone());
        };
        let (rd, hd) = (self.cfg.rotary_dims, self.cfg.head_dim);
        if rd == hd {
            return candle_nn::rotary_emb::rope(x, cos, sin);
        }
        let rot = candle_nn::rotary_emb::rope(&x.narrow(3, 0, rd)?.contiguous()?, cos, sin)?;
        Tensor::cat(&[&rot, &x.narrow(3, rd, hd - rd)?], 3)?.contiguous()
    }
}

/// The LM head: `lm_head.weight` (or another name) if present and untied,
/// else the token embeddings.
pub fn lm_head(
    cfg: &ModelConfig,
    embed: &Embedding,
    vb: &VarBuilder,
    name: &str,
) -> Result<Linear> {
    if !cfg.tie_word_embeddings && vb.contains_tensor(&format!("{name}.weight")) {
        linear(cfg.hidden_size, cfg.vocab_size, false, vb.pp(name))
    } else {
        Linear::tied(embed.embeddings())
    }
}
