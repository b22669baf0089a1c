//! Dense projections `y = x Wᵀ + b` as one GEMM over every row.
//!
//! candle's `Linear` turns a `[batch, tokens, in]` input into a batched
//! matmul of `batch` small GEMMs against a broadcast, transposed weight;
//! here the leading dims fold into one `[rows, in]` matrix, which the GEMM
//! kernels run far more efficiently. Projections that read the same input
//! (q, k, v; gate, up) can be concatenated into one weight at load time.
//!
//! Weights are kept transposed, `[in, out]` and contiguous: the GEMM then
//! reads them row-major instead of packing a transposed view on every call
//! (about 10% of the forward pass at SmolLM2-135M's shapes).
//!
//! GGUF models keep their projection weights quantized
//! ([`QuantizedWeight`]); the activations stay f32.

use super::cpu_kernel::{f32_slice, matmul, Rhs};
use super::quantized::QuantizedWeight;
use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, D};

pub struct Linear {
    weight: Weight,
    bias: Option<Tensor>,
}

enum Weight {
    /// `[in, out]`: contiguous, or for [`Linear::tied`] a transposed view.
    Dense(Tensor),
    /// `[out, in]` blocks, one per run of parts with the same format, whose
    /// outputs sit side by side.
    Quantized(Vec<QuantizedWeight>),
}

impl Linear {
    /// From a weight stored `[out, in]`, as checkpoints store it.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Self {
            weight: Weight::Dense(weight.t()?.contiguous()?),
            bias,
        })
    }

    /// From a weight stored `[in, out]` (GPT-2's `Conv1D`).
    pub fn from_in_out(wt: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Self {
            weight: Weight::Dense(wt.contiguous()?),
            bias,
        })
    }

    /// A projection computed from a quantized weight (CPU only).
    pub fn quantized(weight: QuantizedWeight, bias: Option<Tensor>) -> Self {
        Self {
            weight: Weight::Quantized(vec![weight]),
            bias,
        }
    }

    fn out_dim(&self) -> Result<usize> {
        match &self.weight {
            Weight::Dense(wt) => wt.dim(1),
            Weight::Quantized(parts) => Ok(parts.iter().map(QuantizedWeight::rows).sum()),
        }
    }

    /// A projection sharing `weight` (`[out, in]`, e.g. tied embeddings)
    /// without copying it.
    pub fn tied(weight: &Tensor) -> Result<Self> {
        Ok(Self {
            weight: Weight::Dense(weight.t()?),
            bias: None,
        })
    }

    /// One projection whose outputs are `parts`' outputs side by side.
    pub fn concat(parts: &[Linear]) -> Result<Self> {
        let bias = if parts.iter().all(|p| p.bias.is_some()) {
            let b: Vec<&Tensor> = parts.iter().filter_map(|p| p.bias.as_ref()).collect();
            Some(Tensor::cat(&b, 0)?)
        } else if let Some(like) = parts.iter().find_map(|p| p.bias.as_ref()) {
            // some parts have a bias: the others get zeros
            let b = parts
                .iter()
                .map(|p| match &p.bias {
                    Some(b) => Ok(b.clone()),
                    None => Tensor::zeros(p.out_dim()?, like.dtype(), like.device()),
                })
                .collect::<Result<Vec<_>>>()?;
            Some(Tensor::cat(&b, 0)?)
        } else {
            None
        };
        let weight = if parts.iter().all(|p| matches!(p.weight, Weight::Dense(_))) {
            let dense: Vec<&Tensor> = parts
                .iter()
                .filter_map(|p| match &p.weight {
                    Weight::Dense(wt) => Some(wt),
                    Weight::Quantized(_) => None,
                })
                .collect();
            Weight::Dense(Tensor::cat(&dense, 1)?)
        } else {
            // runs of one format stack into one weight; formats may differ
            // between parts (llama.cpp's mixed quantizations)
            let mut runs: Vec<QuantizedWeight> = Vec::new();
            for p in parts {
                let Weight::Quantized(qs) = &p.weight else {
                    candle_core::bail!("cannot concatenate dense and quantized projections");
                };
                for q in qs {
                    match runs
                        .last_mut()
                        .and_then(|last| QuantizedWeight::stack(&[last, q]).map(|s| (last, s)))
                    {
                        Some((last, stacked)) => *last = stacked?,
                        None => runs.push(q.clone()),
                    }
                }
            }
            Weight::Quantized(runs)
        };
        Ok(Self { weight, bias })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        let inner = *dims.last().expect("projection input has a last dim");
        let rows = x.elem_count() / inner.max(1);
        let x = x.reshape((rows, inner))?;
        let y = match &self.weight {
            Weight::Dense(wt) => dense_matmul(&x, wt)?,
            Weight::Quantized(parts) => {
                let x32 = x.to_dtype(DType::F32)?;
                let outs = parts
                    .iter()
                    .map(|q| q.matmul_t(&x32))
                    .collect::<Result<Vec<_>>>()?;
                let y = if outs.len() == 1 {
                    outs.into_iter().next().expect("one part")
                } else {
                    Tensor::cat(&outs, 1)?
                };
                y.to_dtype(x.dtype())?
            }
        };
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out = dims.to_vec();
        *out.last_mut().expect("non-empty dims") = y.dim(D::Minus1)?;
        y.reshape(out)
    }
}

/// `x · wt`: on the CPU in f32 with both contiguous, one threaded GEMM
/// into an output that is not zeroed first; otherwise candle's matmul. (At
/// SmolLM2-135M's shapes the forward pass measured ~15% faster this way than
/// through candle's matmul, which zeroes its output and adds dispatch.)
fn dense_matmul(x: &Tensor, wt: &Tensor) -> Result<Tensor> {
    let fast = x.device().is_cpu()
        && x.dtype() == DType::F32
        && wt.dtype() == DType::F32
        && wt.is_contiguous();
    if fast {
        x.contiguous()?.apply_op2_no_bwd(wt, &Gemm)
    } else {
        x.matmul(wt)
    }
}

struct Gemm;

impl CustomOp2 for Gemm {
    fn name(&self) -> &'static str {
        "dense-gemm"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ws: &CpuStorage,
        wl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, w) = (
            f32_slice(xs, xl, "dense gemm", "x")?,
            f32_slice(ws, wl, "dense gemm", "w")?,
        );
        let (&[n, k], &[k2, out]) = (xl.dims(), wl.dims()) else {
            candle_core::bail!("dense gemm: expected matrices")
        };
        if k != k2 {
            candle_core::bail!("dense gemm: [{n}, {k}] · [{k2}, {out}]");
        }
        let mut dst: Vec<f32> = Vec::with_capacity(n * out);
        // SAFETY: x is [n, k], w [k, out] and dst [n, out] (capacity), all
        // row-major; matmul writes every element of dst without reading it.
        unsafe {
            matmul(
                n,
                out,
                k,
                (dst.as_mut_ptr(), out),
                (x.as_ptr(), k),
                Rhs::RowMajor(w.as_ptr(), out),
                1.0,
                rayon::current_num_threads(),
            );
            dst.set_len(n * out);
        }
        Ok((CpuStorage::F32(dst), Shape::from((n, out))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn matches_candle_linear_and_concat_matches_parts() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (3, 5, 7), &dev)?;
        let (w1, b1) = (
            Tensor::randn(0f32, 1.0, (4, 7), &dev)?,
            Tensor::randn(0f32, 1.0, 4, &dev)?,
        );
        let w2 = Tensor::randn(0f32, 1.0, (6, 7), &dev)?;
        let ours = Linear::new(w1.clone(), Some(b1.clone()))?;
        let theirs = candle_nn::Linear::new(w1.clone(), Some(b1.clone()));
        use candle_core::Module;
        let diff = (ours.forward(&x)? - theirs.forward(&x)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(diff < 1e-5, "{diff}");
        let tied = (Linear::tied(&w1)?.forward(&x)? - theirs.forward(&x)?.broadcast_sub(&b1)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(tied < 1e-5, "{tied}");
        let both = Linear::concat(&[Linear::new(w1, Some(b1))?, Linear::new(w2.clone(), None)?])?
            .forward(&x)?;
        assert_eq!(both.dims(), &[3, 5, 10]);
        let first = (both.narrow(2, 0, 4)? - ours.forward(&x)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        let second = (both.narrow(2, 4, 6)? - Linear::new(w2, None)?.forward(&x)?)?
            .abs()?
            .max_all()?
            .to_scalar::<f32>()?;
        assert!(first < 1e-5 && second < 1e-5, "{first} {second}");
        Ok(())
    }
}
