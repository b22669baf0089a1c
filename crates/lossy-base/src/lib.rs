//! lossy-base: the leaves every stage of lossy shares, and nothing of lossy
//! itself: the per-CPU numeric kernels and the one random generator
//! ([`math`]), and file plumbing ([`io`]: atomic writes, content hashes,
//! `.npy` arrays, the process-id lock, the cache folder).

pub mod io;
pub mod math;
