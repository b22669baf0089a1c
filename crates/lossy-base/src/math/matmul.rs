//! One matrix product over row-major buffers, for the model kernels (f32)
//! and the estimator's projection (f32, or f64 for tiny ε): the `gemm`
//! crate's nineteen-argument call, with its (column, row) stride convention,
//! written once.

/// The right operand of [`matmul`]: row-major `[k, n]` with this row
/// stride, or the transpose of a row-major `[n, k]` with this row stride.
#[derive(Clone, Copy)]
pub enum Rhs<T> {
    RowMajor(*const T, usize),
    Transposed(*const T, usize),
}

/// `dst = scale · lhs · rhs` for row-major `lhs` `[m, k]` and `dst` `[m, n]`
/// (given by their row strides; columns adjacent), on `threads` threads
/// (1: the calling thread only). `dst` is written, never read.
///
/// # Safety
/// Every pointer must be valid for the elements its shape and strides
/// reach, and `dst`'s elements must not be written by anyone else meanwhile.
#[allow(clippy::too_many_arguments)]
pub unsafe fn matmul<T: Copy + Default + 'static>(
    m: usize,
    n: usize,
    k: usize,
    dst: (*mut T, usize),
    lhs: (*const T, usize),
    rhs: Rhs<T>,
    scale: T,
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
    // gemm's convention: dst = alpha·dst + beta·lhs·rhs, strides as (column,
    // row); alpha is unused since dst is not read.
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
        T::default(),
        scale,
        false,
        false,
        false,
        parallelism,
    );
}
