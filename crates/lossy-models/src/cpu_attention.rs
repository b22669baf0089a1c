//! Attention on the CPU in f32 as one parallel pass over (sequence, head),
//! on a packed batch: the sequences lie one after another, with no padding.
//!
//! Each task computes its head's scores `QKᵀ·scale` over its own sequence
//! only, with a single-threaded GEMM into a per-thread `[len, len]` buffer,
//! soft-caps them if the model does, applies the causal and sliding-window
//! mask by skipping hidden keys (no exponentials for them), normalises each
//! row like candle's softmax, and writes `PV` straight into the packed
//! `[tokens, h·hd]` output. A sequence therefore gets the same bits in a
//! batch as alone: its GEMMs have the same shapes either way. Against
//! candle's ops this avoids the `[b, h, t, t]` score and probability tensors
//! (1.2 GB for 8 × 2048 tokens and 9 heads), every FLOP on padding, the mask
//! add, the transposes back, and two threaded GEMM calls per head whose
//! thread synchronisation costs more than their work at these sizes.
//!
//! The visibility rule is the decoder's: query i sees key j of its own
//! sequence when j ≤ i, and i − j < window for sliding layers.

use super::cpu_kernel::{f32_slice, matmul, DisjointOut, Rhs};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use lossy_base::math::exp::exp_in_place_f32;
use rayon::prelude::*;
use std::cell::RefCell;

/// What one attention layer needs besides q, k and v.
pub struct Params<'a> {
    /// Length of each packed sequence, in order (they sum to the tokens).
    pub lengths: &'a [usize],
    /// Multiplies the raw scores (1/√query_pre_attn_scalar).
    pub scale: f32,
    /// Gemma 2's tanh soft-capping of the scaled scores.
    pub softcap: Option<f32>,
    /// Keys within this many positions, or all earlier keys.
    pub window: Option<usize>,
}

/// `q` `[1, h, tokens, hd]`, `k` and `v` `[1, kvh, tokens, hd]` (packed
/// sequences, contiguous, f32, CPU; query head i uses kv head i / (h / kvh))
/// → `[1, tokens, h·hd]`.
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

impl Op {
    /// Heads, tokens, head width and query heads per key/value head, after
    /// checking that q, k, v and the sequence lengths fit together.
    fn dims(&self, ql: &Layout, kl: &Layout, vl: &Layout) -> Result<(usize, usize, usize, usize)> {
        let &[1, h, n, hd] = ql.dims() else {
            candle_core::bail!("attention: q must be [1, h, tokens, hd] (packed)")
        };
        let &[1, kvh, kn, khd] = kl.dims() else {
            candle_core::bail!("attention: k must be [1, kvh, tokens, hd] (packed)")
        };
        if (kn, khd) != (n, hd)
            || vl.dims() != kl.dims()
            || kvh == 0
            || h % kvh != 0
            || self.lengths.iter().sum::<usize>() != n
        {
            candle_core::bail!(
                "attention: shapes q {:?}, k {:?}, v {:?} for lengths {:?} do not match",
                ql.dims(),
                kl.dims(),
                vl.dims(),
                self.lengths
            );
        }
        Ok((h, n, hd, h / kvh))
    }

    /// One head of one sequence: `qh`, `kh`, `vh` are its `[len, hd]` rows;
    /// the `[len, hd]` result goes to `out.0`, rows `out.1` elements apart.
    ///
    /// # Safety
    /// `out.0` must be valid for writes of `len` rows of `hd` elements,
    /// `out.1` apart, that no other thread touches.
    unsafe fn head(&self, qh: &[f32], kh: &[f32], vh: &[f32], hd: usize, out: (*mut f32, usize)) {
        let len = qh.len().checked_div(hd).unwrap_or(0);
        SCORES.with_borrow_mut(|s| {
            s.resize(len * len, 0.0);
            // SAFETY: the slices hold len·hd elements each and `s`
            // len·len; strides describe row-major Q [len, hd], Kᵀ
            // [hd, len] and S [len, len].
            unsafe {
                matmul(
                    len,
                    len,
                    hd,
                    (s.as_mut_ptr(), len),
                    (qh.as_ptr(), hd),
                    Rhs::Transposed(kh.as_ptr(), hd),
                    self.scale,
                    1,
                );
            }
            for i in 0..len {
                self.softmax_row(&mut s[i * len..][..len], i, len);
            }
            // SAFETY: the caller's contract on `out`; `s` is [len, len]
            // and `vh` [len, hd].
            unsafe {
                matmul(
                    len,
                    hd,
                    len,
                    out,
                    (s.as_ptr(), len),
                    Rhs::RowMajor(vh.as_ptr(), hd),
                    1.0,
                    1,
                );
            }
        });
    }
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
        let (h, n, hd, group) = self.dims(ql, kl, vl)?;
        let starts: Vec<usize> = self
            .lengths
            .iter()
            .scan(0, |s, &len| {
                *s += len;
                Some(*s - len)
            })
            .collect();
        // Every element is written below (gemm with read_dst = false), so
        // the buffer is not zeroed first.
        let mut out: Vec<f32> = Vec::with_capacity(n * h * hd);
        let dst = DisjointOut::new(&mut out);
        (0..self.lengths.len() * h)
            .into_par_iter()
            .for_each(|task| {
                let (si, head) = (task / h, task % h);
                let (s0, len) = (starts[si], self.lengths[si]);
                let kv = head / group;
                let qh = &q[(head * n + s0) * hd..][..len * hd];
                let kh = &k[(kv * n + s0) * hd..][..len * hd];
                let vh = &v[(kv * n + s0) * hd..][..len * hd];
                // SAFETY: this task alone writes rows s0..s0+len, columns
                // head·hd..head·hd+hd of the [tokens, h·hd] output.
                unsafe { self.head(qh, kh, vh, hd, (dst.at(s0 * h * hd + head * hd), h * hd)) };
            });
        // SAFETY: the tasks wrote all tokens·h·hd elements (the lengths sum
        // to the tokens).
        unsafe { out.set_len(n * h * hd) };
        Ok((CpuStorage::F32(out), Shape::from((1, n, h * hd))))
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

    /// The same attention from candle's ops with an additive mask, for one
    /// sequence `[1, h, t, hd]`.
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
            lengths: vec![t],
            scale: p.scale,
            softcap: p.softcap,
            window: p.window,
        };
        let mut mask = vec![f32::NEG_INFINITY; t * t];
        for i in 0..t {
            for j in op.visible(i, t) {
                mask[i * t + j] = 0.0;
            }
        }
        let s = s.broadcast_add(&Tensor::from_vec(mask, (1, 1, t, t), q.device())?)?;
        let probs = candle_nn::ops::softmax_last_dim(&s)?;
        probs
            .matmul(&rep(v)?.contiguous()?)?
            .transpose(1, 2)?
            .reshape((b, t, h * hd))
    }

    /// Sequence `s0..s0 + len` of a packed `[1, heads, tokens, hd]` tensor.
    fn one(x: &Tensor, s0: usize, len: usize) -> Result<Tensor> {
        x.narrow(2, s0, len)?.contiguous()
    }

    #[test]
    fn matches_candle_ops_with_gqa_packing_window_and_softcap() -> Result<()> {
        let dev = Device::Cpu;
        let (h, kvh, hd) = (6, 2, 8);
        let lengths = [9, 5, 1];
        let n = lengths.iter().sum();
        let q = Tensor::randn(0f32, 1.0, (1, h, n, hd), &dev)?;
        let k = Tensor::randn(0f32, 1.0, (1, kvh, n, hd), &dev)?;
        let v = Tensor::randn(0f32, 1.0, (1, kvh, n, hd), &dev)?;
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
            let mut s0 = 0;
            for &len in &lengths {
                let alone = Params {
                    lengths: &[len],
                    ..p
                };
                let (qs, ks, vs) = (one(&q, s0, len)?, one(&k, s0, len)?, one(&v, s0, len)?);
                let want = by_ops(&qs, &ks, &vs, &alone)?;
                let part = got.narrow(1, s0, len)?;
                let d = (&part - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(d < 1e-5, "softcap {softcap:?} window {window:?}: {d}");
                // packed or alone: the same bits
                let single = attend(&qs, &ks, &vs, &alone)?;
                let same = part.flatten_all()?.to_vec1::<f32>()?
                    == single.flatten_all()?.to_vec1::<f32>()?;
                assert!(same, "sequence at {s0} differs packed vs alone");
                s0 += len;
            }
        }
        Ok(())
    }

    #[test]
    fn lengths_that_do_not_cover_the_tokens_are_an_error() -> Result<()> {
        let dev = Device::Cpu;
        let q = Tensor::zeros((1, 2, 5, 4), candle_core::DType::F32, &dev)?;
        let p = Params {
            lengths: &[2, 2],
            scale: 1.0,
            softcap: None,
            window: None,
        };
        assert!(attend(&q, &q, &q, &p).is_err());
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
