//! Model configuration: the union of what lossy's architectures need (the
//! shared decoder's options). Each architecture reads its `config.json` into
//! its own typed struct, with transformers' defaults where a field is absent,
//! and converts it into this one (the `arch` module; `ModelConfig::from_file`
//! lives there, so this module imports no architecture).

/// RoPE frequency scaling, as in `rope_scaling` (or `rope_parameters`).
#[derive(Clone, Debug, PartialEq)]
pub enum RopeScaling {
    None,
    Linear {
        factor: f64,
    },
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: f64,
    },
    /// One divisor per frequency, as in a GGUF's `rope_freqs.weight` (how
    /// llama.cpp stores Llama 3.1+ scaling).
    Factors {
        factors: Vec<f64>,
    },
}

/// Normalisation layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NormKind {
    /// x / rms(x) · w
    Rms,
    /// x / rms(x) · (1 + w) (Gemma)
    RmsPlusOne,
    /// LayerNorm with weight and bias
    Layer,
    /// LayerNorm without parameters (OLMo)
    LayerNoParams,
}

/// Activation of the MLP.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Silu,
    /// exact (erf) GELU
    Gelu,
    /// tanh-approximated GELU (gelu_new, gelu_pytorch_tanh)
    GeluTanh,
}

impl Activation {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "silu" | "swish" => Ok(Self::Silu),
            "gelu" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Self::GeluTanh),
            other => Err(format!(
                "activation `{other}` is not supported (silu, gelu, gelu_new, gelu_pytorch_tanh)"
            )),
        }
    }
}

/// Normalisation of q and k after projection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QkNorm {
    None,
    /// Over the full q and k projections, across heads (OLMo-2).
    Full,
    /// Over each head's head_dim values (Gemma 3).
    PerHead,
}

/// How a block combines attention and MLP with the residual stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// x + attn(norm(x)), then + mlp(norm(·)) (Llama, Qwen2, OLMo, Gemma, GPT-2)
    PreNorm,
    /// x + norm(attn(x)), then + norm(mlp(·)) (OLMo-2)
    PostNorm,
    /// x + norm(attn(norm(x))), then + norm(mlp(norm(·))) (Gemma 2)
    Sandwich,
    /// x + attn(norm(x)) + mlp(norm(x)) (GPT-NeoX parallel residual)
    Parallel,
}

/// A decoder-only transformer's shape and options.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub norm: NormKind,
    pub norm_eps: f64,
    pub layout: Layout,
    pub activation: Activation,
    /// Gated (SwiGLU/GeGLU) MLP, or a plain two-layer one.
    pub gated_mlp: bool,
    pub rope_theta: f64,
    pub rope_scaling: RopeScaling,
    /// Rotary base and scaling of the sliding-window layers, where they
    /// differ from the global ones (Gemma 3).
    pub local_rope: Option<(f64, RopeScaling)>,
    /// Dimensions of each head that are rotated (head_dim = full rotary;
    /// 0 = no rotary embeddings, e.g. GPT-2's learned positions).
    pub rotary_dims: usize,
    pub tie_word_embeddings: bool,
    pub attention_bias: bool,
    pub attention_out_bias: bool,
    pub mlp_bias: bool,
    /// Clamp q, k, v to ±this after projection (OLMo).
    pub clip_qkv: Option<f64>,
    /// RMS-normalise q and k before rotary embeddings.
    pub qk_norm: QkNorm,
    /// Multiply embeddings by √hidden_size (Gemma).
    pub scale_embeddings: bool,
    /// Attention logits are scaled by this^-1/2 (default head_dim).
    pub query_pre_attn_scalar: f64,
    pub attn_logit_softcapping: Option<f64>,
    pub final_logit_softcapping: Option<f64>,
    /// Per layer: sliding-window size, or None for global attention.
    pub sliding_window: Vec<Option<usize>>,
    /// Learned absolute position embeddings of this many positions (GPT-2).
    pub learned_positions: Option<usize>,
}

/// The size of a decoder: what every architecture's config must state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
}

impl ModelConfig {
    /// A Llama-style decoder of `shape`: RMSNorm (eps 1e-6) before attention
    /// and MLP, SwiGLU, rotary embeddings over the whole head (base 10000,
    /// unscaled), no biases, untied embeddings, global attention everywhere.
    /// Architectures start here and change what differs.
    pub fn llama_like(model_type: impl Into<String>, shape: Shape) -> Self {
        Self {
            model_type: model_type.into(),
            vocab_size: shape.vocab_size,
            hidden_size: shape.hidden_size,
            intermediate_size: shape.intermediate_size,
            num_layers: shape.num_layers,
            num_heads: shape.num_heads,
            num_kv_heads: shape.num_kv_heads,
            head_dim: shape.head_dim,
            norm: NormKind::Rms,
            norm_eps: 1e-6,
            layout: Layout::PreNorm,
            activation: Activation::Silu,
            gated_mlp: true,
            rope_theta: 10000.0,
            rope_scaling: RopeScaling::None,
            local_rope: None,
            rotary_dims: shape.head_dim,
            tie_word_embeddings: false,
            attention_bias: false,
            attention_out_bias: false,
            mlp_bias: false,
            clip_qkv: None,
            qk_norm: QkNorm::None,
            scale_embeddings: false,
            query_pre_attn_scalar: shape.head_dim as f64,
            attn_logit_softcapping: None,
            final_logit_softcapping: None,
            sliding_window: vec![None; shape.num_layers],
            learned_positions: None,
        }
    }

    /// Checks the sizes and their consistency (before anything is allocated).
    pub fn check(&self) -> Result<(), String> {
        // Bounds before anything is allocated from these sizes: far above any
        // published model, far below what overflows or aborts an allocation.
        for (name, value, max) in [
            ("num_hidden_layers", self.num_layers, 4096),
            ("hidden_size", self.hidden_size, 1 << 17),
            ("intermediate_size", self.intermediate_size, 1 << 20),
            ("vocab_size", self.vocab_size, 1 << 24),
            ("num_attention_heads", self.num_heads, 4096),
            ("head_dim", self.head_dim, 1 << 14),
        ] {
            if value == 0 || value > max {
                return Err(format!(
                    "`{name}` is {value}; it must be between 1 and {max}"
                ));
            }
        }
        if self.num_heads == 0 || self.num_kv_heads == 0 || self.num_heads % self.num_kv_heads != 0
        {
            return Err(format!(
                "the number of heads ({}) must be a positive multiple of the key/value heads ({})",
                self.num_heads, self.num_kv_heads
            ));
        }
        if self.rotary_dims % 2 != 0 || self.rotary_dims > self.head_dim {
            return Err(format!(
                "rotary dimensions {} must be even and at most head_dim {}",
                self.rotary_dims, self.head_dim
            ));
        }
        if self.sliding_window.len() != self.num_layers {
            return Err(format!(
                "{} layer types for {} layers",
                self.sliding_window.len(),
                self.num_layers
            ));
        }
        Ok(())
    }

    /// Parameters outside the embeddings and LM head (for FLOP estimates).
    pub fn non_embedding_params(&self) -> usize {
        let (d, h, kv, hd, f) = (
            self.hidden_size,
            self.num_heads,
            self.num_kv_heads,
            self.head_dim,
            self.intermediate_size,
        );
        let attn = d * h * hd + 2 * d * kv * hd + h * hd * d;
        let mlp = if self.gated_mlp { 3 * d * f } else { 2 * d * f };
        self.num_layers * (attn + mlp + 4 * d) + 2 * d
    }

    /// Every parameter: the non-embedding count (same approximation: no
    /// biases) plus the token embeddings, an untied LM head and learned
    /// position embeddings.
    pub fn total_params(&self) -> usize {
        let d = self.hidden_size;
        let head = if self.tie_word_embeddings {
            0
        } else {
            self.vocab_size * d
        };
        self.non_embedding_params()
            + self.vocab_size * d
            + head
            + self.learned_positions.unwrap_or(0) * d
    }
}

impl RopeScaling {
    /// Inverse frequencies for `dims` rotated dimensions, as transformers
    /// computes them (`_compute_default/linear/llama3_rope_parameters`).
    pub fn inv_freq(&self, dims: usize, theta: f64) -> Vec<f64> {
        let base: Vec<f64> = (0..dims / 2)
            .map(|i| 1.0 / theta.powf(2.0 * i as f64 / dims as f64))
            .collect();
        match *self {
            RopeScaling::None => base,
            RopeScaling::Linear { factor } => base.iter().map(|f| f / factor).collect(),
            RopeScaling::Factors { ref factors } => {
                base.iter().zip(factors).map(|(f, s)| f / s).collect()
            }
            RopeScaling::Llama3 {
                factor,
                low_freq_factor,
                high_freq_factor,
                original_max_position_embeddings: old,
            } => {
                let low_wavelen = old / low_freq_factor;
                let high_wavelen = old / high_freq_factor;
                base.iter()
                    .map(|&f| {
                        let wavelen = 2.0 * std::f64::consts::PI / f;
                        if wavelen < high_wavelen {
                            f
                        } else if wavelen > low_wavelen {
                            f / factor
                        } else {
                            let smooth = (old / wavelen - low_freq_factor)
                                / (high_freq_factor - low_freq_factor);
                            (1.0 - smooth) * f / factor + smooth * f
                        }
                    })
                    .collect()
            }
        }
    }
}
