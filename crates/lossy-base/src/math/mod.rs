//! Numerical kernels shared by the stages: exponentials over slices that
//! vectorise, for the estimator's softmax (f64) and the forward pass's SiLU
//! and attention softmax (f32); the one matrix-product call both make; and
//! [`stats`] and [`student_t`], the statistics of the fit stage, the report
//! and the figures.

pub mod exp;
pub mod matmul;
pub mod rng;
pub mod simd;
pub mod stats;
pub mod student_t;
