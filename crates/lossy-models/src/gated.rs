//! The gated MLP's middle step, `act(gate) · up`, read from one fused
//! `[rows, 2f]` projection output (gate in the first half of each row, up in
//! the second).
//!
//! For SiLU in f32 on the CPU one parallel pass reads each row once and
//! writes `[rows, f]`, with candle's SiLU formula `g / (1 + e^-g)` and a
//! vectorised exp ([`lossy_base::math::exp`], within 2 ulp of libm's); the unfused
//! ops would write three intermediate tensors. Other activations, dtypes
//! and devices use candle's ops on the two halves.

use super::config::Activation;
use super::cpu_kernel::f32_slice;
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Result, Shape, Tensor, D};
use lossy_base::math::exp::exp_in_place_f32;
use rayon::prelude::*;

/// `act(y[.., :f]) * y[.., f:]` for `y` of last dim `2f`.
pub fn gated(y: &Tensor, act: Activation) -> Result<Tensor> {
    if act == Activation::Silu && y.dtype() == DType::F32 && y.device().is_cpu() {
        return y.contiguous()?.apply_op1_no_bwd(&SiluMul);
    }
    let f = y.dim(D::Minus1)? / 2;
    activation(act, &y.narrow(D::Minus1, 0, f)?)? * y.narrow(D::Minus1, f, f)?
}

pub fn activation(a: Activation, x: &Tensor) -> Result<Tensor> {
    match a {
        Activation::Silu => candle_nn::ops::silu(x),
        Activation::Gelu => x.gelu_erf(),
        Activation::GeluTanh => x.gelu(),
    }
}

struct SiluMul;

impl CustomOp1 for SiluMul {
    fn name(&self) -> &'static str {
        "silu-mul"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let all = f32_slice(storage, layout, "silu-mul", "input")?;
        let mut dims = layout.dims().to_vec();
        let width = *dims.last().unwrap_or(&0);
        if width % 2 != 0 {
            candle_core::bail!("silu-mul: last dim {width} is odd");
        }
        let f = width / 2;
        *dims.last_mut().expect("checked above") = f;
        let n = all.len() / 2;
        let mut out: Vec<f32> = Vec::with_capacity(n);
        if f > 0 {
            out.spare_capacity_mut()[..n]
                .par_chunks_mut(f)
                .zip(all.par_chunks(width))
                .for_each_init(
                    || vec![0f32; f],
                    |e, (o, row)| {
                        let (gate, up) = row.split_at(f);
                        for (e, &g) in e.iter_mut().zip(gate) {
                            *e = -g;
                        }
                        exp_in_place_f32(e);
                        for (((o, &g), &u), &e) in o.iter_mut().zip(gate).zip(up).zip(e.iter()) {
                            o.write(g / (1.0 + e) * u);
                        }
                    },
                );
        }
        // SAFETY: each of the n elements was written above.
        unsafe { out.set_len(n) };
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn fused_silu_matches_the_ops() -> Result<()> {
        let y = Tensor::randn(0f32, 3.0, (2, 5, 12), &Device::Cpu)?.narrow(1, 1, 3)?;
        let fused = gated(&y, Activation::Silu)?;
        let ops = (candle_nn::ops::silu(&y.narrow(2, 0, 6)?)? * y.narrow(2, 6, 6)?)?;
        assert_eq!(fused.dims(), &[2, 3, 6]);
        let (fused, ops) = (
            fused.flatten_all()?.to_vec1::<f32>()?,
            ops.flatten_all()?.to_vec1::<f32>()?,
        );
        for (a, b) in fused.iter().zip(&ops) {
            // the exp differs from libm's by at most 2 ulp
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-3), "{a} vs {b}");
        }
        Ok(())
    }

    #[test]
    fn other_activations_use_the_halves() -> Result<()> {
        let y = Tensor::new(&[[1f32, -2.0, 3.0, 4.0]], &Device::Cpu)?;
        let got = gated(&y, Activation::GeluTanh)?.to_vec2::<f32>()?;
        let want = (Tensor::new(&[[1f32, -2.0]], &Device::Cpu)?.gelu()?
            * Tensor::new(&[[3f32, 4.0]], &Device::Cpu)?)?
        .to_vec2::<f32>()?;
        assert_eq!(got, want);
        Ok(())
    }
}
