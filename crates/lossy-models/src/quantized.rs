//! Weight-only quantized projections for GGUF models.
//!
//! A GGUF projection weight stays in its file's block format in memory
//! (Q4_1 is 5 bits a weight where f32 is 32): SmolLM2-135M's projections
//! take 60 MiB instead of 410 MiB, a 7B Q4 model 4 GB instead of 28. At
//! each matmul, tiles of weight rows are dequantized into a per-thread f32
//! buffer and multiplied by the f32 activations, in parallel over tiles.
//! The activations are never quantized, so the result is the f32 matmul
//! with the dequantized weights (up to summation order), which is what HF
//! transformers computes after dequantizing the whole file at load.
//! (candle's `QMatMul` would quantize the activations to 8 bits on CPU.)

use super::cpu_kernel::{f32_slice, matmul, DisjointOut, Rhs};
use candle_core::quantized::k_quants::{self, GgmlType};
use candle_core::quantized::GgmlDType;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::cell::RefCell;

/// A `[rows, cols]` weight (`[out, in]`) in a GGUF block format.
#[derive(Clone)]
pub struct QuantizedWeight {
    dtype: GgmlDType,
    rows: usize,
    cols: usize,
    /// The blocks, row after row, in a u64 buffer so every block is aligned.
    data: Vec<u64>,
}

thread_local! {
    static TILE: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Calls `$f::<BlockType>(..)` for a dtype's block type.
macro_rules! by_block_type {
    ($dtype:expr, $f:ident($($arg:expr),*)) => {
        match $dtype {
            GgmlDType::F32 => $f::<f32>($($arg),*),
            GgmlDType::F16 => $f::<half::f16>($($arg),*),
            GgmlDType::BF16 => $f::<half::bf16>($($arg),*),
            GgmlDType::Q4_0 => $f::<k_quants::BlockQ4_0>($($arg),*),
            GgmlDType::Q4_1 => $f::<k_quants::BlockQ4_1>($($arg),*),
            GgmlDType::Q5_0 => $f::<k_quants::BlockQ5_0>($($arg),*),
            GgmlDType::Q5_1 => $f::<k_quants::BlockQ5_1>($($arg),*),
            GgmlDType::Q8_0 => $f::<k_quants::BlockQ8_0>($($arg),*),
            GgmlDType::Q8_1 => $f::<k_quants::BlockQ8_1>($($arg),*),
            GgmlDType::Q2K => $f::<k_quants::BlockQ2K>($($arg),*),
            GgmlDType::Q3K => $f::<k_quants::BlockQ3K>($($arg),*),
            GgmlDType::Q4K => $f::<k_quants::BlockQ4K>($($arg),*),
            GgmlDType::Q5K => $f::<k_quants::BlockQ5K>($($arg),*),
            GgmlDType::Q6K => $f::<k_quants::BlockQ6K>($($arg),*),
            GgmlDType::Q8K => $f::<k_quants::BlockQ8K>($($arg),*),
        }
    };
}

/// Dequantizes whole blocks from `bytes` (block-aligned) into `out`.
fn to_f32<T: GgmlType>(bytes: &[u8], out: &mut [f32]) {
    let size = std::mem::size_of::<T>();
    assert!(bytes.len() % size == 0 && (bytes.as_ptr() as usize) % std::mem::align_of::<T>() == 0);
    // SAFETY: the bytes are whole, aligned blocks of T, plain data read from
    // a GGUF tensor of this dtype (checked by `QuantizedWeight::new`).
    let blocks =
        unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const T, bytes.len() / size) };
    T::to_float(blocks, out);
}

impl QuantizedWeight {
    /// `bytes` as stored in the GGUF file for a `[rows, cols]` tensor.
    pub fn new(dtype: GgmlDType, rows: usize, cols: usize, bytes: &[u8]) -> Result<Self> {
        if cols % dtype.block_size() != 0 {
            candle_core::bail!(
                "{dtype:?} rows of {cols} values are not whole blocks of {}",
                dtype.block_size()
            );
        }
        let want = rows * cols / dtype.block_size() * dtype.type_size();
        if bytes.len() != want {
            candle_core::bail!(
                "{dtype:?} [{rows}, {cols}] needs {want} bytes, got {}",
                bytes.len()
            );
        }
        let mut data = vec![0u64; want.div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut data)[..want].copy_from_slice(bytes);
        Ok(Self {
            dtype,
            rows,
            cols,
            data,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    fn row_bytes(&self) -> usize {
        self.cols / self.dtype.block_size() * self.dtype.type_size()
    }

    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.data)[..self.rows * self.row_bytes()]
    }

    /// The weight with its rows reordered: row i of the result is row
    /// `source(i)` of this one.
    pub fn permute_rows(&self, source: impl Fn(usize) -> usize) -> Result<Self> {
        let (rb, bytes) = (self.row_bytes(), self.bytes());
        let mut out = Vec::with_capacity(bytes.len());
        for i in 0..self.rows {
            out.extend_from_slice(&bytes[source(i) * rb..][..rb]);
        }
        Self::new(self.dtype, self.rows, self.cols, &out)
    }

    /// Weights of one dtype and width stacked row-wise, or None if they differ.
    pub fn stack(parts: &[&QuantizedWeight]) -> Option<Result<Self>> {
        let first = parts.first()?;
        if parts
            .iter()
            .any(|p| p.dtype != first.dtype || p.cols != first.cols)
        {
            return None;
        }
        let bytes: Vec<u8> = parts
            .iter()
            .flat_map(|p| p.bytes().iter().copied())
            .collect();
        Some(Self::new(
            first.dtype,
            parts.iter().map(|p| p.rows).sum(),
            first.cols,
            &bytes,
        ))
    }

    /// Rows `first..first + n` as f32, into `out` (`n · cols` values).
    fn dequantize_rows(&self, first: usize, n: usize, out: &mut [f32]) {
        let rb = self.row_bytes();
        by_block_type!(
            self.dtype,
            to_f32(
                &self.bytes()[first * rb..(first + n) * rb],
                &mut out[..n * self.cols]
            )
        );
    }

    /// The whole weight as an f32 `[rows, cols]` tensor.
    #[cfg(test)]
    pub fn dequantize(&self) -> Result<Tensor> {
        let mut out = vec![0f32; self.rows * self.cols];
        self.dequantize_rows(0, self.rows, &mut out);
        Tensor::from_vec(out, (self.rows, self.cols), &candle_core::Device::Cpu)
    }

    /// `x Wᵀ` for `x` f32 `[n, cols]` on the CPU → `[n, rows]`.
    pub fn matmul_t(&self, x: &Tensor) -> Result<Tensor> {
        if x.dim(0)? == 1 {
            // gemm would take its gemv path (see MIN_TILE)
            let twice = Tensor::cat(&[x, x], 0)?;
            return twice.apply_op1_no_bwd(self)?.narrow(0, 0, 1);
        }
        x.contiguous()?.apply_op1_no_bwd(self)
    }

    /// Tiles of weight rows: at least four per thread to balance the work,
    /// at most about 256 rows (a tile of 256 × 2048 f32 is 2 MiB), split
    /// evenly, and at least [`MIN_TILE`] rows each unless the weight has
    /// fewer. See [`MIN_TILE`] for why.
    fn tiles(&self) -> Vec<std::ops::Range<usize>> {
        let rows = self.rows;
        let wanted = rows.div_ceil(
            rows.div_ceil(4 * rayon::current_num_threads())
                .clamp(16, 256),
        );
        let count = wanted.min(rows / MIN_TILE).max(1);
        (0..count)
            .map(|t| t * rows / count..(t + 1) * rows / count)
            .collect()
    }
}

/// The fewest weight rows in a tile. gemm's summation order depends on the
/// problem's shape: with one side a single row it runs a gemv, with at most
/// 256 outputs a "horizontal" kernel, with both sides at most 64 it blocks k
/// as `k.min(512)` instead of by its cache rule. The token side varies with
/// the batch, so tiles of at least 129 rows times at least 2 tokens (one
/// token is run as two) keep every token's result the same bits in any
/// batch, as for f32 weights (tested).
const MIN_TILE: usize = 129;

impl CustomOp1 for QuantizedWeight {
    fn name(&self) -> &'static str {
        "quantized-matmul"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(storage, layout, "quantized matmul", "activations")?;
        let &[n, k] = layout.dims() else {
            candle_core::bail!("quantized matmul: activations must be [rows, in]")
        };
        if k != self.cols {
            candle_core::bail!(
                "quantized matmul: activations have {k} columns, the weight {}",
                self.cols
            );
        }
        let rows = self.rows;
        let tiles = self.tiles();
        let widest = tiles.iter().map(|t| t.len()).max().unwrap_or(0);
        // Every element is written by one tile's GEMM (read_dst = false).
        let mut out: Vec<f32> = Vec::with_capacity(n * rows);
        let dst = DisjointOut::new(&mut out);
        tiles.into_par_iter().for_each(|tile| {
            let (first, len) = (tile.start, tile.len());
            TILE.with_borrow_mut(|w| {
                w.resize(widest * k, 0.0);
                self.dequantize_rows(first, len, w);
                // SAFETY: dst is [n, rows] row-major and this tile alone
                // writes its columns first..first + len; x is [n, k] and the
                // tile [len, k], both row-major (read as its transpose).
                unsafe {
                    matmul(
                        n,
                        len,
                        k,
                        (dst.at(first), rows),
                        (x.as_ptr(), k),
                        Rhs::Transposed(w.as_ptr(), k),
                        1.0,
                        1,
                    );
                }
            });
        });
        // SAFETY: the tiles cover all `rows` columns of all n rows.
        unsafe { out.set_len(n * rows) };
        Ok((CpuStorage::F32(out), Shape::from((n, rows))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::QTensor;
    use candle_core::Device;

    fn quantized(w: &Tensor, dtype: GgmlDType) -> QuantizedWeight {
        let q = QTensor::quantize(w, dtype).unwrap();
        let (rows, cols) = w.dims2().unwrap();
        QuantizedWeight::new(dtype, rows, cols, &q.data().unwrap()).unwrap()
    }

    #[test]
    fn matmul_equals_f32_matmul_with_the_dequantized_weight() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (37, 512), &dev)?;
        let w = Tensor::randn(0f32, 0.1, (300, 512), &dev)?;
        for dtype in [
            GgmlDType::F32,
            GgmlDType::F16,
            GgmlDType::Q4_0,
            GgmlDType::Q4_1,
            GgmlDType::Q8_0,
            GgmlDType::Q4K,
            GgmlDType::Q6K,
        ] {
            let q = quantized(&w, dtype);
            // candle's own dequantization is the reference for the weights
            let deq = QTensor::quantize(&w, dtype)?.dequantize(&dev)?;
            let same = (q.dequantize()? - &deq)?
                .abs()?
                .max_all()?
                .to_scalar::<f32>()?;
            assert_eq!(same, 0.0, "{dtype:?} dequantization");
            let want = x.matmul(&deq.t()?)?;
            let got = q.matmul_t(&x)?;
            let diff = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "{dtype:?}: {diff}");
        }
        Ok(())
    }

    #[test]
    fn permuted_and_stacked_rows() -> Result<()> {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (6, 64), &dev)?;
        let q = quantized(&w, GgmlDType::Q8_0);
        let deq = q.dequantize()?;
        let rev = q.permute_rows(|i| 5 - i)?.dequantize()?;
        for i in 0..6 {
            assert_eq!(
                rev.get(i)?.to_vec1::<f32>()?,
                deq.get(5 - i)?.to_vec1::<f32>()?
            );
        }
        let both = QuantizedWeight::stack(&[&q, &q]).unwrap()?.dequantize()?;
        assert_eq!(
            both.narrow(0, 6, 6)?.to_vec2::<f32>()?,
            deq.to_vec2::<f32>()?
        );
        let other = quantized(&w, GgmlDType::Q4_0);
        assert!(QuantizedWeight::stack(&[&q, &other]).is_none());
        Ok(())
    }

    #[test]
    fn wrong_sizes_are_errors() {
        assert!(QuantizedWeight::new(GgmlDType::Q4_0, 2, 30, &[0; 40]).is_err());
        assert!(QuantizedWeight::new(GgmlDType::Q4_0, 2, 32, &[0; 35]).is_err());
    }

    /// A token's output is the same bits whatever other tokens share the
    /// call: the batch size does not change features. Weights of 64 to 1536
    /// columns (over gemm's 512-wide k block) and 129 to 1536 rows.
    #[test]
    fn each_row_gets_the_same_bits_in_any_batch() -> Result<()> {
        let dev = Device::Cpu;
        for (rows, cols) in [(576, 576), (1536, 576), (576, 1536), (129, 576), (1000, 64)] {
            let x = Tensor::randn(0f32, 1.0, (300, cols), &dev)?;
            let w = Tensor::randn(0f32, 0.1, (rows, cols), &dev)?;
            let q = quantized(&w, GgmlDType::Q4_1);
            let all = q.matmul_t(&x)?;
            for m in [1usize, 2, 3, 4, 7, 16, 60, 64, 65, 100] {
                let part = q.matmul_t(&x.narrow(0, 0, m)?)?.to_vec2::<f32>()?;
                let want = all.narrow(0, 0, m)?.to_vec2::<f32>()?;
                assert!(part == want, "[{rows}, {cols}] weight, {m} rows");
            }
        }
        Ok(())
    }
}
