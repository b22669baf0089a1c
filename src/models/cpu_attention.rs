//! Attention on the CPU in f32 as one parallel pass over (sequence, head).
//!
//! Each task computes its head's scores `QKᵀ·scale` with a single-threaded
//! GEMM into a per-thread `[t, t]` buffer, soft-caps them if the model
//! does, applies the causal, padding and sliding-window mask by skipping
//! hidden keys (no exponentials for them), normalises each row like
//! candle's softmax, and writes `PV` straight into the `[b, t, h·hd]`
//! output. Against candle's ops this avoids the `[b, h, t, t]` score and
//! probability tensors (1.2 GB for 8 × 2048 tokens and 9 heads), the mask
//! add, the transposes back, and two threaded GEMM calls per head whose
//! thread synchronisation costs more than their work at these sizes.
//!
//! The visibility rule is the decoder's mask: query i sees key j when
//! j ≤ i, j < length, and i − j < window for sliding layers.

use super::cpu_kernel::{f32_slice, matmul, DisjointOut, Rhs};
use crate::math::exp::exp_in_place_f32;
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::cell::RefCell;

/// What one attention layer needs besides q, k and v.
pub struct Params<'a> {
    /// Real (unpadded) length of each sequence in the batch.
    pub lengths: &'a [usize],
    /// Multiplies the raw scores (1/√query_pre_attn_scalar).
    pub scale: f32,
    /// Gemma 2's tanh soft-capping of the scaled scores.
    pub softcap: Option<f32>,
    /// Keys within this many positions, or all earlier keys.
    pub window: Option<usize>,
}

/// `q` `[b, h, t, hd]`, `k` and `v` `[b, kvh, t, hd]` (contiguous, f32, CPU;
/// query head i uses kv head i / (h / kvh)) → `[b, t, h·hd]`.
pub fn attend(q: &Tensor, k: &Tensor, v: &Tensor, p: &Params) -> Result<Tensor> {
    q.apply_op3_no_bwd(
        k,
        v,
        &Op {
            lengths: p.lengths.to_vec(),
            scale: p.scale,
            softcap: p.softcap,
            window: p.window,
        },
    )
}

struct Op {
    lengths: Vec<usize>,
    scale: f32,
    softcap: Option<f32>,
    window: Option<usize>,
}

thread_local! {
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl CustomOp3 for Op {
    fn name(&self) -> &'static str {
        "cpu-attention"
    }

    fn cpu_fwd(
        &self,
        qs: &CpuStorage,
        ql: &Layout,
        ks: &CpuStorage,
        kl: &Layout,
        vs: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let f32s = |s, l, what| f32_slice(s, l, "attention", what);
        let (q, k, v) = (f32s(qs, ql, "q")?, f32s(ks, kl, "k")?, f32s(vs, vl, "v")?);
        let &[b, h, t, hd] = ql.dims() else {
            candle_core::bail!("attention: q must be [b, h, t, hd]")
        };
        let &[kb, kvh, kt, khd] = kl.dims() else {
            candle_core::bail!("attention: k must be [b, kvh, t, hd]")
        };
        if (kb, kt, khd) != (b, t, hd)
            || vl.dims() != kl.dims()
            || kvh == 0
            || h % kvh != 0
            || self.lengths.len() != b
        {
            candle_core::bail!(
                "attention: shapes q {:?}, k {:?}, v {:?} for {} lengths do not match",
                ql.dims(),
                kl.dims(),
                vl.dims(),
                self.lengths.len()
            );
        }
        let group = h / kvh;
        // Every element is written below (gemm with read_dst = false), so
        // the buffer is not zeroed first.
        let mut out: Vec<f32> = Vec::with_capacity(b * t * h * hd);
        let dst = DisjointOut::new(&mut out);
        (0..b * h).into_par_iter().for_each(|task| {
            let (bi, head) = (task / h, task % h);
            let kv = bi * kvh + head / group;
            let qh = &q[task * t * hd..][..t * hd];
            let kh = &k[kv * t * hd..][..t * hd];
            let vh = &v[kv * t * hd..][..t * hd];
            SCORES.with_borrow_mut(|s| {
                s.resize(t * t, 0.0);
                // SAFETY: the slices hold t·hd elements each and `s` t·t;
                // strides describe row-major Q [t, hd], Kᵀ [hd, t] and S [t, t].
                unsafe {
                    matmul(
                        t,
                        t,
                        hd,
                        (s.as_mut_ptr(), t),
                        (qh.as_ptr(), hd),
                        Rhs::Transposed(kh.as_ptr(), hd),
                        self.scale,
                        1,
                    );
                }
                for i in 0..t {
                    self.softmax_row(&mut s[i * t..][..t], i, self.lengths[bi]);
                }
                // SAFETY: this task alone writes rows bi·t..bi·t+t, columns
                // head·hd..head·hd+hd of the [b·t, h·hd] output.
                unsafe {
                    let o = dst.at(bi * t * h * hd + head * hd);
                    matmul(
                        t,
                        hd,
                        t,
                        (o, h * hd),
                        (s.as_ptr(), t),
                        Rhs::RowMajor(vh.as_ptr(), hd),
                        1.0,
                        1,
                    );
                }
            });
        });
        // SAFETY: the b·h tasks wrote all b·t·h·hd elements.
        unsafe { out.set_len(b * t * h * hd) };
        Ok((CpuStorage::F32(out), Shape::from((b, t, h * hd))))
    }
}

impl Op {
    /// Keys query `i` may see, as a range.
    fn visible(&self, i: usize, len: usize) -> std::ops::Range<usize> {
        let first = self.window.map_or(0, |w| (i + 1).saturating_sub(w));
        first..(i + 1).min(len)
    }

    /// Soft-caps, masks and normalises one row of scores in place; hidden
    /// keys get probability 0 (a row with none visible is all 0).
    fn softmax_row(&self, row: &mut [f32], i: usize, len: usize) {
        let seen = self.visible(i, len);
        let (before, rest) = row.split_at_mut(seen.start.min(row.len()));
        before.fill(0.0);
        let (live, after) = rest.split_at_mut(seen.len());
        after.fill(0.0);
        if let Some(cap) = self.softcap {
            live.iter_mut().for_each(|x| *x = (*x / cap).tanh() * cap);
        }
        let max = live.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        live.iter_mut().for_each(|x| *x -= max);
        exp_in_place_f32(live);
        let sum: f32 = live.iter().sum();
        live.iter_mut().for_each(|x| *x /= sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// The same attention from candle's ops with an additive mask.
    fn by_ops(q: &Tensor, k: &Tensor, v: &Tensor, p: &Params) -> Result<Tensor> {
        let (b, h, t, hd) = q.dims4()?;
        let group = h / k.dim(1)?;
        let rep = |x: &Tensor| -> Result<Tensor> {
            let (b, kvh, t, hd) = x.dims4()?;
            x.unsqueeze(2)?
                .expand((b, kvh, group, t, hd))?
                .reshape((b, h, t, hd))
        };
        let mut s = (q.matmul(&rep(k)?.t()?)? * p.scale as f64)?;
        if let Some(cap) = p.softcap {
            s = ((s / cap as f64)?.tanh()? * cap as f64)?;
        }
        let op = Op {
            lengths: p.lengths.to_vec(),
            scale: p.scale,
            softcap: p.softcap,
            window: p.window,
        };
        let mut mask = vec![f32::NEG_INFINITY; b * t * t];
        for (bi, &len) in p.lengths.iter().enumerate() {
            for i in 0..t {
                for j in op.visible(i, len) {
                    mask[(bi * t + i) * t + j] = 0.0;
                }
            }
        }
        let s = s.broadcast_add(&Tensor::from_vec(mask, (b, 1, t, t), q.device())?)?;
        let probs = candle_nn::ops::softmax_last_dim(&s)?;
        probs
            .matmul(&rep(v)?.contiguous()?)?
            .transpose(1, 2)?
            .reshape((b, t, h * hd))
    }

    #[test]
    fn matches_candle_ops_with_gqa_padding_window_and_softcap() -> Result<()> {
        let dev = Device::Cpu;
        let (b, h, kvh, t, hd) = (2, 6, 2, 9, 8);
        let q = Tensor::randn(0f32, 1.0, (b, h, t, hd), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (b, kvh, t, hd), &dev)?;
        let v = Tensor::randn(0f32, 1.0, (b, kvh, t, hd), &dev)?;
        let lengths = [9, 5];
        for (softcap, window) in [
            (None, None),
            (Some(3.0), None),
            (None, Some(4)),
            (Some(2.0), Some(3)),
        ] {
            let p = Params {
                lengths: &lengths,
                scale: 0.35,
                softcap,
                window,
            };
            let got = attend(&q, &k, &v, &p)?;
            let want = by_ops(&q, &k, &v, &p)?;
            // compare real positions only (padded queries may see no key)
            for (bi, &len) in lengths.iter().enumerate() {
                let d = (got.get(bi)?.narrow(0, 0, len)? - want.get(bi)?.narrow(0, 0, len)?)?
                    .abs()?
                    .max_all()?
                    .to_scalar::<f32>()?;
                assert!(d < 1e-5, "softcap {softcap:?} window {window:?}: {d}");
            }
        }
        Ok(())
    }

    #[test]
    fn rows_sum_to_one_over_visible_keys_only() {
        let op = Op {
            lengths: vec![4],
            scale: 1.0,
            softcap: None,
            window: Some(2),
        };
        let mut row = vec![1.0f32, 2.0, 3.0, 4.0, 5.0];
        op.softmax_row(&mut row, 2, 4);
        assert_eq!((row[0], row[3], row[4]), (0.0, 0.0, 0.0));
        assert!((row[1] + row[2] - 1.0).abs() < 1e-6 && row[2] > row[1]);
    }
}
