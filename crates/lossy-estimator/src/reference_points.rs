//! Reference points W: m unit vectors in R^d that define the soft bins.
//!
//! Absolute entropies depend strongly on W, so two runs are comparable only
//! with the same W. lossy therefore generates W by a fixed, documented,
//! platform-independent algorithm (`splitmix64-polar-v1`), or loads it from
//! a `.npy` file (e.g. exported from the reference implementation), and
//! records which in every output.
//!
//! `splitmix64-polar-v1`, for (m, d, seed):
//! 1. A SplitMix64 stream with state `seed`: each draw adds
//!    0x9E3779B97F4A7C15 to the state and mixes it (Steele et al. 2014).
//! 2. Uniforms u = (draw >> 11) · 2^-53 in [0, 1).
//! 3. Standard normals by Marsaglia's polar method: v1 = 2u1 − 1, v2 = 2u2 − 1,
//!    s = v1² + v2², rejected unless 0 < s < 1; then v1·f and v2·f with
//!    f = √(−2 ln s / s), where ln is lossy's own [`det_ln`] (only +, −, ×, ÷,
//!    so every IEEE-754 platform gets the same bits).
//! 4. The normals fill W row-major (row 0 first); each row is divided by its
//!    Euclidean norm (sum of squares in order, f64) and stored as f32.

use lossy_base::io::{hash::sha256_file, npy};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ALGORITHM: &str = "splitmix64-polar-v1";

/// Where W came from, recorded in outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum WSource {
    Generated { algorithm: String, seed: u64 },
    File { path: PathBuf, sha256: String },
}

use lossy_base::math::rng::SplitMix64;

/// Natural log using only correctly rounded arithmetic, so it gives the same
/// bits on every IEEE-754 platform (unlike the platform libm). x > 0, finite.
pub fn det_ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    const LN2: f64 = std::f64::consts::LN_2;
    // x = f · 2^e with f in [1, 2), then move f into [√½, √2).
    let (mut f, mut e) = if x < f64::MIN_POSITIVE {
        let y = x * (1u64 << 54) as f64;
        (y, -54i64)
    } else {
        (x, 0)
    };
    let bits = f.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    f = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if f > std::f64::consts::SQRT_2 {
        f /= 2.0;
        e += 1;
    }
    // ln f = 2 atanh(u), u = (f − 1)/(f + 1), |u| ≤ 0.172.
    let u = (f - 1.0) / (f + 1.0);
    let u2 = u * u;
    let mut term = u;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 40.0 {
        sum += term / k;
        term *= u2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * LN2
}

/// Standard normals by the polar method over a SplitMix64 stream.
pub struct Normals {
    rng: SplitMix64,
    spare: Option<f64>,
}

impl Normals {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            spare: None,
        }
    }
    pub fn next(&mut self) -> f64 {
        if let Some(x) = self.spare.take() {
            return x;
        }
        loop {
            let v1 = 2.0 * self.rng.unit() - 1.0;
            let v2 = 2.0 * self.rng.unit() - 1.0;
            let s = v1 * v1 + v2 * v2;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * det_ln(s) / s).sqrt();
                self.spare = Some(v2 * f);
                return v1 * f;
            }
        }
    }
}

/// Generates W (m × d, row-major, unit rows) with `splitmix64-polar-v1`.
pub fn generate(m: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut normals = Normals::new(seed);
    let mut w = Vec::with_capacity(m * d);
    let mut row = vec![0f64; d];
    for _ in 0..m {
        for x in row.iter_mut() {
            *x = normals.next();
        }
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        w.extend(row.iter().map(|x| (x / norm) as f32));
    }
    w
}

#[derive(Debug, thiserror::Error)]
pub enum WError {
    #[error(transparent)]
    Npy(#[from] npy::NpyError),
    #[error("reference points in {path} must be a 2-D float array (m × d); got shape {shape:?}")]
    Shape { path: PathBuf, shape: Vec<usize> },
    #[error("reference points in {path} have width {got}, but the embeddings have d = {want}")]
    Width {
        path: PathBuf,
        got: usize,
        want: usize,
    },
    #[error("reference point row {row} in {path} is zero or not finite")]
    BadRow { path: PathBuf, row: usize },
}

/// Loads W from a `.npy` file (m × d float32/float64), normalising its rows
/// in f32 exactly as the reference does (they are usually unit already).
pub fn load(path: &Path, d: usize) -> Result<(usize, Vec<f32>, WSource), WError> {
    let arr = npy::read(path)?;
    let shape_err = || WError::Shape {
        path: path.into(),
        shape: arr.shape.clone(),
    };
    if arr.shape.len() != 2 || arr.shape[0] == 0 {
        return Err(shape_err());
    }
    let (m, width) = (arr.shape[0], arr.shape[1]);
    if width != d {
        return Err(WError::Width {
            path: path.into(),
            got: width,
            want: d,
        });
    }
    let mut w = arr.to_f32().ok_or_else(shape_err)?;
    for (row, chunk) in w.chunks_mut(d).enumerate() {
        let norm = chunk.iter().map(|&x| x * x).sum::<f32>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(WError::BadRow {
                path: path.into(),
                row,
            });
        }
        if (norm - 1.0).abs() > 1e-6 {
            chunk.iter_mut().for_each(|x| *x /= norm);
        }
    }
    let sha256 = sha256_file(path).map_err(|source| npy::NpyError::Io {
        path: path.into(),
        source,
    })?;
    Ok((
        m,
        w,
        WSource::File {
            path: path.into(),
            sha256,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn det_ln_matches_libm_closely() {
        for &x in &[
            1e-300, 1e-10, 0.1, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 1e10, 1e300,
        ] {
            let (a, b) = (det_ln(x), x.ln());
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1.0),
                "{x}: {a} vs {b}"
            );
        }
        assert_eq!(det_ln(1.0), 0.0);
    }

    #[test]
    fn w_is_deterministic_unit_and_pinned() {
        let w = generate(4, 3, 0);
        assert_eq!(w, generate(4, 3, 0));
        assert_ne!(w, generate(4, 3, 1));
        for row in w.chunks(3) {
            let n: f32 = row.iter().map(|x| x * x).sum();
            assert!((n - 1.0).abs() < 1e-6);
        }
        // Pin the exact bits: a change here changes every published number.
        let bits: Vec<u32> = w.iter().map(|x| x.to_bits()).collect();
        assert_eq!(
            bits,
            PINNED_W_4X3_SEED0.to_vec(),
            "W algorithm changed: {w:?}"
        );
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut g = Normals::new(7);
        let xs: Vec<f64> = (0..200_000).map(|_| g.next()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.01,
            "mean {mean} var {var}"
        );
    }

    const PINNED_W_4X3_SEED0: [u32; 12] = [
        1062030060, 3188895794, 3205790383, 3199745114, 3208089104, 1058592055, 3197505973,
        1060974366, 1058753132, 1062323311, 1058155324, 1028626013,
    ];
}
