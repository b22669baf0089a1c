//! What lossy's own CPU kernels (candle custom ops) share: reading an input
//! as a contiguous f32 slice, a pointer into an output that parallel tasks
//! write in disjoint parts, and the matrix product they all call
//! ([`lossy_base::math::matmul`]).

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

pub use lossy_base::math::matmul::{matmul, Rhs};
