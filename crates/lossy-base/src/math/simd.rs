//! The one place lossy picks a vectorised code path at run time.
//!
//! A kernel is written once as a plain loop, `#[inline(always)]`, and
//! compiled again inside `#[target_feature]` copies for AVX-512F and AVX2;
//! [`by_cpu!`] calls the widest copy the CPU supports. The copies differ
//! only in the vectors the compiler may use, never in the order of the
//! operations (no fused multiply-add is enabled), so every path gives the
//! same bits; each kernel's tests check that.

/// Evaluates `avx512` where the CPU has AVX-512F, else `avx2` where it has
/// AVX2, else `plain`. The first two are expressions calling
/// `#[target_feature]` functions (unsafe to call; the check here is what
/// makes them sound).
#[doc(hidden)]
#[macro_export]
macro_rules! __by_cpu {
    (avx512: $avx512:expr, avx2: $avx2:expr, plain: $plain:expr $(,)?) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F, checked just above.
                unsafe { $avx512 }
            } else if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { $avx2 }
            } else {
                $plain
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $plain
        }
    }};
}
pub use crate::__by_cpu as by_cpu;
