//! SplitMix64 (Steele, Lea & Flood 2014): lossy's one random stream, for
//! reference points, shuffled-label nulls, the bootstrap, folds,
//! permutation tests and corpus sampling.
//!
//! All arithmetic wraps mod 2^64: `state += 0x9E3779B97F4A7C15; z = state;
//! z = (z ^ z>>30) * 0xBF58476D1CE4E5B9; z = (z ^ z>>27) * 0x94D049BB133111EB;
//! out = z ^ z>>31`. A draw below `m` is `(out as u128 * m as u128) >> 64`
//! (multiply-shift, bias < m / 2^64); a shuffle is Fisher–Yates: for i = n−1
//! down to 1, swap i with a draw below i + 1; a unit draw is `(out >> 11) /
//! 2^53`. Integer-only (and exact scaling), so every stream is identical on
//! every platform; `scripts/` reproduce them for the fixtures.

/// The SplitMix64 stream (see the module docs).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// A draw in 0..m (m > 0).
    pub fn below(&mut self, m: usize) -> usize {
        ((self.next_u64() as u128 * m as u128) >> 64) as usize
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (uses libm `ln`/`cos`: for simulations,
    /// not fixtures).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// SplitMix64's output mixer (also a good 64-bit hash of a counter).
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_matches_the_published_outputs() {
        // Vigna's reference outputs for seed 1234567, and seed 0's first.
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn unit_draws_are_the_top_53_bits_scaled_exactly() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        for _ in 0..1000 {
            let u = a.unit();
            assert_eq!(u, (b.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64));
            assert!((0.0..1.0).contains(&u));
        }
    }
}
