//! What lossy's own CPU kernels (candle custom ops) share: reading an input
//! as a contiguous f32 slice, a pointer into an output that parallel tasks
//! write in disjoint parts, and the f32 matrix product they all call.

use candle_core::{CpuStorage, Layout, Result};

/// `storage` seen through `layout` as one contiguous f32 slice, or an error
/// naming `op` and `what`.
pub fn f32_slice<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    op: &str,
    what: &str,
) -> Result<&'a [f32]> {
    let CpuStorage::F32(all) = storage else {
        candle_core::bail!("{op}: {what} must be f32")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: {what} must be contiguous")
    };
    Ok(&all[start..end])
}

/// An output buffer's start, shared by parallel tasks that each write only
/// their own elements.
#[derive(Clone, Copy)]
pub struct DisjointOut(*mut f32);

// SAFETY: tasks write disjoint elements only (each use states which), and
// the buffer outlives the parallel loop.
unsafe impl Send for DisjointOut {}
unsafe impl Sync for DisjointOut {}

impl DisjointOut {
    pub fn new(buffer: &mut Vec<f32>) -> Self {
        Self(buffer.as_mut_ptr())
    }

    /// The element at `offset` (a method, so closures capture the `Send`
    /// wrapper rather than its raw pointer field).
    pub fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

/// The right operand of [`matmul`]: row-major `[k, n]` with this row
/// stride, or the transpose of a row-major `[n, k]` with this row stride.
#[derive(Clone, Copy)]
pub enum Rhs {
    RowMajor(*const f32, usize),
    Transposed(*const f32, usize),
}

/// `dst = scale · lhs · rhs` for row-major f32 `lhs` `[m, k]` and `dst`
/// `[m, n]` (given by their row strides; columns adjacent), on `threads`
/// threads (1: the calling thread only). `dst` is written, never read.
///
/// # Safety
/// Every pointer must be valid for the elements its shape and strides
/// reach, and `dst`'s elements must not be written by anyone else meanwhile.
#[allow(clippy::too_many_arguments)]
pub unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: (*mut f32, usize),
    lhs: (*const f32, usize),
    rhs: Rhs,
    scale: f32,
    threads: usize,
) {
    let (rhs, col_stride, row_stride) = match rhs {
        Rhs::RowMajor(p, row) => (p, 1, row),
        Rhs::Transposed(p, row) => (p, row, 1),
    };
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // gemm's convention: dst = alpha·dst + beta·lhs·rhs, strides as (column, row)
    gemm::gemm(
        m,
        n,
        k,
        dst.0,
        1,
        dst.1 as isize,
        false,
        lhs.0,
        1,
        lhs.1 as isize,
        rhs,
        col_stride as isize,
        row_stride as isize,
        0.0,
        scale,
        false,
        false,
        false,
        parallelism,
    );
}
