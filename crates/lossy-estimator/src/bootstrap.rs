//! Bootstrap over documents, streamed: each replicate gives every document a
//! Poisson(1) weight (the "Poisson bootstrap", an online approximation of
//! resampling documents with replacement), and accumulates weighted sums.
//! Weights are a pure function of (seed, replicate, document), so results do
//! not depend on batch order or size.

use lossy_base::math::rng::mix64;

/// e^{-1}, the Poisson(1) probability of 0.
const E_INV: f64 = 0.367_879_441_171_442_33;

/// The Poisson(1) weight of `document` in `replicate`.
pub fn poisson_weight(seed: u64, replicate: u64, document: u64) -> f64 {
    let h = mix64(seed ^ mix64(replicate.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix64(document)));
    let u = (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    // inverse CDF: P(k) = e^-1 / k!
    let (mut k, mut p, mut cdf) = (0u32, E_INV, E_INV);
    while u >= cdf && k < 20 {
        k += 1;
        p /= k as f64;
        cdf += p;
    }
    k as f64
}

/// The `q` quantile (0..=1) of finite values, by linear interpolation
/// between order statistics (numpy's default); NaN if none are finite.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_poisson_one_and_deterministic() {
        let w: Vec<f64> = (0..100_000).map(|d| poisson_weight(7, 3, d)).collect();
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / w.len() as f64;
        assert!(
            (mean - 1.0).abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "mean {mean} var {var}"
        );
        let zeros = w.iter().filter(|&&x| x == 0.0).count() as f64 / w.len() as f64;
        assert!((zeros - E_INV).abs() < 0.01);
        assert_eq!(poisson_weight(7, 3, 12), poisson_weight(7, 3, 12));
        assert_ne!(
            (0..50).map(|d| poisson_weight(7, 3, d)).collect::<Vec<_>>(),
            (0..50).map(|d| poisson_weight(7, 4, d)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [3.0, 1.0, 2.0, f64::NAN, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12); // np.quantile([1,2,3,4], 0.025)
        assert!(quantile(&[f64::NAN], 0.5).is_nan());
    }
}
