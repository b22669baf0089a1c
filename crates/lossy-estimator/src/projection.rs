//! Projection: a batch of embeddings → soft bin assignments.
//!
//! Each row's dot products with the m unit reference points are computed by
//! GEMM (f32 like the reference, or f64 when ε < 1e-3, where f32 rounding of
//! the cosines, amplified by 1/ε, would show), divided by the row's norm (f64)
//! to give cosines, and a softmax with temperature ε turns them into
//! probabilities (f64). Rows are processed in
//! fixed blocks, in parallel, each block through the same single-threaded
//! GEMM kernel: results are bit-identical whatever the batch size or split.

use super::accumulator::AccumulateError;
use super::Estimator;
use lossy_base::math::exp::exp_in_place;
use lossy_base::math::matmul::{matmul, Rhs};
use rayon::prelude::*;
use std::cell::RefCell;

/// Rows per GEMM call.
const BLOCK: usize = 256;

/// ln(1e-9): the reference clamps probabilities there before the logarithm.
const LN_1E_MINUS_9: f64 = -20.72326583694641;

/// Below this ε the cosines are computed in f64.
pub const F64_PROJECTION_BELOW_EPS: f64 = 1e-3;

/// Soft assignments of one batch: rows × m probabilities (f64), and each
/// row's own entropy where asked for (rows whose label occurs once).
#[derive(Default)]
pub struct Projected {
    pub rows: usize,
    pub p: Vec<f64>,
    pub row_entropy: Vec<f64>,
}

impl Projected {
    pub fn row(&self, r: usize, m: usize) -> &[f64] {
        &self.p[r * m..(r + 1) * m]
    }
}

/// A float type the cosines can be computed in.
trait Element: Copy + Default + Send + Sync + std::ops::Div<Output = Self> + 'static {
    fn from_f64(x: f64) -> Self;
    fn from_f32(x: f32) -> Self;
    fn to_f64(self) -> f64;
    /// Wᵀ (d × m, row-major) in this precision.
    fn weights(est: &Estimator) -> &[Self];
    /// `z` itself when it is a full block of this type (no copy needed).
    fn as_f32_block(z: &[f32], rows: usize) -> Option<&[Self]>;
    /// Runs `f` with this thread's scratch buffers (normalised rows, cosines).
    fn with_scratch<R>(
        rows_len: usize,
        out_len: usize,
        f: impl FnOnce(&mut [Self], &mut [Self]) -> R,
    ) -> R;
}

macro_rules! element {
    ($t:ty, $tls:ident, $e:ident => $weights:expr, $z:ident, $rows:ident => $in_place:expr) => {
        thread_local! {
            static $tls: RefCell<(Vec<$t>, Vec<$t>)> = const { RefCell::new((Vec::new(), Vec::new())) };
        }
        impl Element for $t {
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn from_f32(x: f32) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn weights($e: &Estimator) -> &[Self] {
                $weights
            }
            fn as_f32_block($z: &[f32], $rows: usize) -> Option<&[Self]> {
                $in_place
            }
            fn with_scratch<R>(rows_len: usize, out_len: usize, f: impl FnOnce(&mut [Self], &mut [Self]) -> R) -> R {
                $tls.with(|cell| {
                    let (a, b) = &mut *cell.borrow_mut();
                    a.resize(rows_len, 0.0);
                    b.resize(out_len, 0.0);
                    f(a, b)
                })
            }
        }
    };
}

element!(f32, SCRATCH_F32, e => e.wt32(), z, rows => (rows == BLOCK).then_some(z));
element!(f64, SCRATCH_F64, e => e.wt64(), _z, _rows => None);

impl Estimator {
    /// Projects a batch (`rows × d`, row-major) to soft bin assignments.
    /// `need_row_entropy(r)` asks for row r's own entropy.
    pub fn project(
        &self,
        z: &[f32],
        need_row_entropy: impl Fn(usize) -> bool + Sync,
    ) -> Result<Projected, AccumulateError> {
        let mut out = Projected::default();
        self.project_into(z, need_row_entropy, &mut out)?;
        Ok(out)
    }

    /// Like [`Estimator::project`], reusing `out`'s buffers: batches of one
    /// size then allocate (and free) nothing, which matters because large
    /// frees are unmapped and cost every core a TLB flush.
    pub fn project_into(
        &self,
        z: &[f32],
        need_row_entropy: impl Fn(usize) -> bool + Sync,
        out: &mut Projected,
    ) -> Result<(), AccumulateError> {
        let (d, m) = (self.d, self.m);
        if z.len() % d != 0 {
            return Err(AccumulateError::Ragged { len: z.len(), d });
        }
        let rows = z.len() / d;
        out.rows = rows;
        out.p.resize(rows * m, 0.0);
        out.row_entropy.clear();
        out.row_entropy.resize(rows, f64::NAN);
        let f64_cosines = self.epsilon < F64_PROJECTION_BELOW_EPS;
        let (p, row_entropy) = (&mut out.p, &mut out.row_entropy);
        p.par_chunks_mut(BLOCK * m)
            .zip(row_entropy.par_chunks_mut(BLOCK))
            .zip(z.par_chunks(BLOCK * d))
            .enumerate()
            .try_for_each(|(b, ((p, h), z))| {
                let first_row = b * BLOCK;
                if f64_cosines {
                    self.project_block::<f64>(first_row, z, p, h, &need_row_entropy)
                } else {
                    self.project_block::<f32>(first_row, z, p, h, &need_row_entropy)
                }
            })
    }

    /// One block of at most [`BLOCK`] rows: norms, then the single-threaded
    /// GEMM (a short block is zero-padded), then the softmax.
    fn project_block<T: Element>(
        &self,
        first_row: usize,
        z: &[f32],
        p: &mut [f64],
        h: &mut [f64],
        need_row_entropy: &impl Fn(usize) -> bool,
    ) -> Result<(), AccumulateError> {
        let (d, m) = (self.d, self.m);
        let n = z.len() / d;
        let mut inv_norm = [0f64; BLOCK];
        inv_norms(z, d, first_row, &mut inv_norm[..n])?;
        T::with_scratch(BLOCK * d, BLOCK * m, |lhs, dots| {
            // The GEMM always sees a full block: a partial one is zero-padded.
            // Full f32 blocks are read in place.
            let lhs: &[T] = match T::as_f32_block(z, n) {
                Some(z) => z,
                None => {
                    for (o, &x) in lhs.iter_mut().zip(z) {
                        *o = T::from_f32(x);
                    }
                    lhs[n * d..].fill(T::default());
                    lhs
                }
            };
            let w = T::weights(self);
            // SAFETY: the strides describe the buffers exactly: dst is
            // BLOCK × m row-major, lhs BLOCK × d row-major, rhs Wᵀ (d × m
            // row-major).
            unsafe {
                matmul(
                    BLOCK,
                    m,
                    d,
                    (dots.as_mut_ptr(), m),
                    (lhs.as_ptr(), d),
                    Rhs::RowMajor(w.as_ptr(), m),
                    T::from_f64(1.0),
                    1,
                );
            }
            self.soft_assign(Block {
                first_row,
                dots: &dots[..n * m],
                inv_norm: &inv_norm[..n],
                p,
                h,
                need_row_entropy,
            });
        });
        Ok(())
    }

    /// Dot products → cosines → softmax with temperature ε, per row; and
    /// the row's own entropy where asked for. Vectorised for the widest
    /// vectors the CPU has; every path gives the same bits (same lanes, no
    /// fused multiply-add).
    fn soft_assign<T: Element>(&self, blk: Block<'_, T, impl Fn(usize) -> bool>) {
        lossy_base::math::simd::by_cpu!(
            avx512: soft_assign_avx512(self, blk),
            avx2: soft_assign_avx2(self, blk),
            plain: soft_assign_rows(self, blk),
        )
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn soft_assign_avx512<T: Element>(
    est: &Estimator,
    blk: Block<'_, T, impl Fn(usize) -> bool>,
) {
    soft_assign_rows(est, blk)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn soft_assign_avx2<T: Element>(est: &Estimator, blk: Block<'_, T, impl Fn(usize) -> bool>) {
    soft_assign_rows(est, blk)
}

#[inline(always)]
fn soft_assign_rows<T: Element>(est: &Estimator, blk: Block<'_, T, impl Fn(usize) -> bool>) {
    let m = est.m;
    let inv_eps = 1.0 / est.epsilon;
    let ln_m = (m as f64).ln();
    // Each row's exponents a = (cosine − max cosine) / ε, where
    // cosine = (z · w) / |z|; then ln p where the entropy needs it.
    let mut a = vec![0f64; m];
    for (r, &scale) in blk.inv_norm.iter().enumerate() {
        let (dots, out) = (
            &blk.dots[r * m..(r + 1) * m],
            &mut blk.p[r * m..(r + 1) * m],
        );
        let max = lane_max(dots) * scale;
        for (a, &x) in a.iter_mut().zip(dots) {
            *a = (x.to_f64() * scale - max) * inv_eps;
        }
        out.copy_from_slice(&a);
        exp_in_place(out);
        let sum = lane_dot(out, None);
        let inv = 1.0 / sum;
        out.iter_mut().for_each(|o| *o *= inv);
        if (blk.need_row_entropy)(blk.first_row + r) {
            // −Σ p ln max(p, 1e-9), as the reference computes it, with
            // ln p = a − ln Σe taken from the softmax's own exponent
            // instead of m logarithms.
            let ln_sum = sum.ln();
            for (a, &p) in a.iter_mut().zip(out.iter()) {
                *a = if p >= 1e-9 {
                    *a - ln_sum
                } else {
                    LN_1E_MINUS_9
                };
            }
            blk.h[r] = -lane_dot(out, Some(&a)) / ln_m;
        }
    }
}

/// Lanes of the row reductions: independent sums that vectorise.
const LANES: usize = 8;

/// The largest element (exact whatever the order).
#[inline(always)]
fn lane_max<T: Element>(xs: &[T]) -> f64 {
    let mut lanes = [f64::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        let c: &[T; LANES] = c.try_into().expect("chunks of LANES");
        for (l, &x) in lanes.iter_mut().zip(c) {
            let x = x.to_f64();
            *l = if x > *l { x } else { *l };
        }
    }
    chunks
        .remainder()
        .iter()
        .map(|x| x.to_f64())
        .chain(lanes)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Σ x_i (or Σ x_i y_i) over [`LANES`] lanes (element i into lane i mod 8),
/// then the lanes and the tail in order.
#[inline(always)]
fn lane_dot(x: &[f64], y: Option<&[f64]>) -> f64 {
    let mut lanes = [0f64; LANES];
    let full = x.len() / LANES * LANES;
    match y {
        None => {
            for c in x[..full].chunks_exact(LANES) {
                let c: &[f64; LANES] = c.try_into().expect("chunks of LANES");
                for i in 0..LANES {
                    lanes[i] += c[i];
                }
            }
        }
        Some(y) => {
            for (c, d) in x[..full].chunks_exact(LANES).zip(y.chunks_exact(LANES)) {
                let c: &[f64; LANES] = c.try_into().expect("chunks of LANES");
                let d: &[f64; LANES] = d.try_into().expect("chunks of LANES");
                for i in 0..LANES {
                    lanes[i] += c[i] * d[i];
                }
            }
        }
    }
    let tail: f64 = match y {
        None => x[full..].iter().sum(),
        Some(y) => x[full..].iter().zip(&y[full..]).map(|(a, b)| a * b).sum(),
    };
    lanes.iter().sum::<f64>() + tail
}

/// 1/|z| per row (f64), rejecting rows with no direction.
fn inv_norms(
    z: &[f32],
    d: usize,
    first_row: usize,
    out: &mut [f64],
) -> Result<(), AccumulateError> {
    for (r, row) in z.chunks(d).enumerate() {
        let ss = sum_of_squares(row);
        // A NaN or infinity anywhere makes the sum non-finite (f32 squares
        // cannot overflow f64).
        if !ss.is_finite() {
            return Err(AccumulateError::NonFinite { row: first_row + r });
        }
        if ss == 0.0 {
            return Err(AccumulateError::ZeroRow { row: first_row + r });
        }
        out[r] = 1.0 / ss.sqrt();
    }
    Ok(())
}

/// Σ x² in f64, over 16 independent lanes so that it vectorises (fewer
/// lanes leave it waiting on its own additions); compiled for the widest
/// vectors the CPU has, every path with the same lanes in the same order:
/// the same bits.
fn sum_of_squares(row: &[f32]) -> f64 {
    lossy_base::math::simd::by_cpu!(
        avx512: sum_of_squares_avx512(row),
        avx2: sum_of_squares_avx2(row),
        plain: sum_of_squares_lanes(row),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_of_squares_avx512(row: &[f32]) -> f64 {
    sum_of_squares_lanes(row)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sum_of_squares_avx2(row: &[f32]) -> f64 {
    sum_of_squares_lanes(row)
}

/// How far ahead (in f32s: 4 KiB, the next page) the row-norm pass asks
/// for memory: hardware prefetchers stop at page boundaries, and the norms
/// are the first read of each block of Z (about 5% at d = 2048).
const PREFETCH_AHEAD: usize = 1024;

#[inline(always)]
fn sum_of_squares_lanes(row: &[f32]) -> f64 {
    const W: usize = 16;
    let mut lanes = [0f64; W];
    let mut chunks = row.chunks_exact(W);
    for c in &mut chunks {
        let c: &[f32; W] = c.try_into().expect("chunks of W");
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is only a hint; it never faults, whatever the
        // address.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(c.as_ptr().wrapping_add(PREFETCH_AHEAD).cast());
        }
        for i in 0..W {
            lanes[i] += (c[i] as f64) * (c[i] as f64);
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&x| (x as f64) * (x as f64))
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// One block of a batch: its dot products, norms and output slices.
struct Block<'a, T, F> {
    first_row: usize,
    /// rows × m dot products.
    dots: &'a [T],
    inv_norm: &'a [f64],
    p: &'a mut [f64],
    h: &'a mut [f64],
    need_row_entropy: &'a F,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WSource;

    /// The softmax and row entropies of one block, through `run`.
    fn soft_assigned(run: impl Fn(&Estimator, Block<'_, f32, &dyn Fn(usize) -> bool>)) -> Vec<u64> {
        let (m, rows) = (37, 9); // m not a multiple of the lanes: a tail too
        let est = Estimator::from_parts(
            vec![0.0; m * 3],
            m,
            3,
            0.05,
            WSource::Generated {
                algorithm: "test".into(),
                seed: 0,
            },
        );
        let dots: Vec<f32> = (0..rows * m)
            .map(|i| ((i * 7919) % 1000) as f32 * 2e-3 - 1.0)
            .collect();
        let inv_norm: Vec<f64> = (0..rows).map(|r| 1.0 / (1.0 + r as f64)).collect();
        let (mut p, mut h) = (vec![0.0; rows * m], vec![f64::NAN; rows]);
        let need: &dyn Fn(usize) -> bool = &|r| r % 3 != 1;
        run(
            &est,
            Block {
                first_row: 0,
                dots: &dots,
                inv_norm: &inv_norm,
                p: &mut p,
                h: &mut h,
                need_row_entropy: &need,
            },
        );
        p.iter().chain(&h).map(|x| x.to_bits()).collect()
    }

    #[test]
    fn soft_assignment_is_the_same_on_every_path() {
        let plain = soft_assigned(|e, b| soft_assign_rows(e, b));
        assert_eq!(soft_assigned(|e, b| e.soft_assign(b)), plain);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: checked just above.
            assert_eq!(
                soft_assigned(|e, b| unsafe { soft_assign_avx2(e, b) }),
                plain
            );
        }
    }

    #[test]
    fn sum_of_squares_is_the_same_on_every_path() {
        let row: Vec<f32> = (0..2051)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5)
            .collect();
        let exact: f64 = row.iter().map(|&x| (x as f64) * (x as f64)).sum();
        let lanes = sum_of_squares_lanes(&row);
        assert!((lanes - exact).abs() < 1e-12 * exact);
        assert_eq!(sum_of_squares(&row).to_bits(), lanes.to_bits());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: checked just above.
            let avx2 = unsafe { sum_of_squares_avx2(&row) };
            assert_eq!(avx2.to_bits(), lanes.to_bits());
        }
    }
}
