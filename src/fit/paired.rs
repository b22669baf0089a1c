//! Paired comparisons over held-out models: does adding the features to a
//! baseline reduce each model's held-out error?
//!
//! * [`t_cdf`], [`t_quantile`]: Student's t distribution, from
//!   [`crate::math::student_t`] (the figures' confidence bands use it too).
//! * [`paired_interval`]: the mean of paired differences with its Student t
//!   interval (as `scipy.stats.ttest_rel(a, b).confidence_interval(level)`).
//! * [`sign_flip_test`]: the two-sided permutation test of a zero mean
//!   difference by flipping signs (as `scipy.stats.permutation_test((d,),
//!   np.mean, permutation_type="samples")`): every one of the 2^n sign
//!   patterns when n ≤ [`EXACT_MAX`], else `permutations` random patterns
//!   from SplitMix64 (+1 correction, as scipy's randomised test).

use crate::math::rng::SplitMix64;
pub use crate::math::student_t::{t_cdf, t_quantile};
use serde::Serialize;

/// Largest n for which the sign-flip test enumerates all 2^n patterns.
pub const EXACT_MAX: usize = 20;

/// The mean of paired differences with a two-sided Student t interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedInterval {
    pub n: usize,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
    /// Coverage of the interval (e.g. 0.95).
    pub level: f64,
}

/// Mean of `d` and its t interval at `level` (NaN bounds below 2 values).
pub fn paired_interval(d: &[f64], level: f64) -> PairedInterval {
    let n = d.len();
    let mean = d.iter().sum::<f64>() / n as f64;
    let (lower, upper) = if n >= 2 {
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = t_quantile(0.5 + level / 2.0, (n - 1) as f64) * (var / n as f64).sqrt();
        (mean - half, mean + half)
    } else {
        (f64::NAN, f64::NAN)
    };
    PairedInterval {
        n,
        mean,
        lower,
        upper,
        level,
    }
}

/// Two-sided sign-flip p-value of a zero mean of `d` (see the module header).
pub fn sign_flip_test(d: &[f64], permutations: usize, seed: u64) -> f64 {
    let n = d.len();
    if n == 0 {
        return f64::NAN;
    }
    let observed = d.iter().sum::<f64>() / n as f64;
    let gamma = (observed * f64::EPSILON * 100.0).abs();
    let (mut less, mut greater) = (0usize, 0usize);
    let mut count = |stat: f64| {
        less += usize::from(stat <= observed + gamma);
        greater += usize::from(stat >= observed - gamma);
    };
    let (total, adjust) = if n <= EXACT_MAX {
        for mask in 0u64..(1u64 << n) {
            let s: f64 = (0..n)
                .map(|i| if mask >> i & 1 == 1 { -d[i] } else { d[i] })
                .sum();
            count(s / n as f64);
        }
        ((1usize << n) as f64, 0.0)
    } else {
        let mut rng = SplitMix64::new(seed);
        for _ in 0..permutations {
            let s: f64 = d
                .iter()
                .map(|&x| if rng.next_u64() >> 63 == 1 { -x } else { x })
                .sum();
            count(s / n as f64);
        }
        (permutations as f64, 1.0)
    };
    let p_less = (less as f64 + adjust) / (total + adjust);
    let p_greater = (greater as f64 + adjust) / (total + adjust);
    (2.0 * p_less.min(p_greater)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sign_flips_of_a_small_sample() {
        // all 8 sign patterns of [1, 2, 3]: means ±2, ±4/3 (twice), ±2/3 (twice)…
        // P(mean ≥ 2) = 1/8, so p = 2/8
        assert!((sign_flip_test(&[1.0, 2.0, 3.0], 0, 0) - 0.25).abs() < 1e-15);
    }
}
