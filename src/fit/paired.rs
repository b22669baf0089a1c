//! Paired comparisons over held-out models: does adding the features to a
//! baseline reduce each model's held-out error?
//!
//! * [`t_cdf`], [`t_quantile`]: Student's t distribution (as
//!   `scipy.stats.t.cdf` / `.ppf`), through the regularized incomplete beta
//!   function (continued fraction, Lentz's method) and a Lanczos log-gamma;
//!   written here rather than adding a statistics crate for two functions.
//! * [`paired_interval`]: the mean of paired differences with its Student t
//!   interval (as `scipy.stats.ttest_rel(a, b).confidence_interval(level)`).
//! * [`sign_flip_test`]: the two-sided permutation test of a zero mean
//!   difference by flipping signs (as `scipy.stats.permutation_test((d,),
//!   np.mean, permutation_type="samples")`): every one of the 2^n sign
//!   patterns when n ≤ [`EXACT_MAX`], else `permutations` random patterns
//!   from SplitMix64 (+1 correction, as scipy's randomised test).

use crate::math::rng::SplitMix64;
use serde::Serialize;

/// Largest n for which the sign-flip test enumerates all 2^n patterns.
pub const EXACT_MAX: usize = 20;

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = 1.0 / if d.abs() < TINY { TINY } else { d };
    let mut h = d;
    for m in 1..=1000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            d = 1.0 / if d.abs() < TINY { TINY } else { d };
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of Student's t (bisection on [`t_cdf`] to 1e-13).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(0.0 < p && p < 1.0) || !(df > 0.0) {
        return f64::NAN;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let mut hi = 1.0;
    while t_cdf(hi, df) < p {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

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
    fn t_quantiles_of_known_values() {
        // scipy.stats.t.ppf(0.975, df)
        assert!((t_quantile(0.975, 1.0) - 12.706_204_736_174_698).abs() < 1e-9);
        assert!((t_quantile(0.975, 22.0) - 2.073_873_067_904_015).abs() < 1e-9);
        assert!((t_cdf(0.0, 5.0) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn exact_sign_flips_of_a_small_sample() {
        // all 8 sign patterns of [1, 2, 3]: means ±2, ±4/3 (twice), ±2/3 (twice)…
        // P(mean ≥ 2) = 1/8, so p = 2/8
        assert!((sign_flip_test(&[1.0, 2.0, 3.0], 0, 0) - 0.25).abs() < 1e-15);
    }
}
