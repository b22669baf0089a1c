//! Hyper-parameters of the fit stage, checked once, when they are made.
//!
//! Each type can hold only a valid value: [`Folds`] (k ≥ 2), [`Coverage`]
//! (strictly between 0 and 1), [`Permutations`] (≥ 1) and [`Penalty`] (a
//! ridge alpha, finite and ≥ 0). The study checker makes them from the study
//! file (`check_fit` in `crate::study`, which reports a bad value at its line
//! and column, exit 2); the fit stage receives them already valid and checks
//! only what depends on the data (k ≤ the number of scored models, a
//! non-empty hold-out split). Deserialising one checks it the same way, and
//! each serialises as the bare number, so `fit.json` is unchanged.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A hyper-parameter out of its range. The messages name the study keys the
/// values come from.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("`folds` must be at least 2")]
    Folds(usize),
    #[error("`interval` is a coverage between 0 and 1, e.g. 0.9")]
    Coverage(f64),
    #[error("`permutations` must be at least 1")]
    Permutations,
    #[error("a ridge penalty must be finite and ≥ 0, got {0}")]
    Penalty(f64),
    #[error("ridge with an inner cross-validation needs at least one penalty to choose from")]
    NoPenalties,
}

/// The number of folds of k-fold cross-validation: at least 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "usize", into = "usize")]
pub struct Folds(usize);

impl Folds {
    pub fn new(k: usize) -> Result<Self, ParamError> {
        if k < 2 {
            return Err(ParamError::Folds(k));
        }
        Ok(Folds(k))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// The nominal coverage of a prediction interval, strictly between 0 and 1
/// (the study's `interval`); its miscoverage is α = 1 − coverage.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Coverage(f64);

impl Coverage {
    pub fn new(level: f64) -> Result<Self, ParamError> {
        if !(level > 0.0 && level < 1.0) {
            return Err(ParamError::Coverage(level));
        }
        Ok(Coverage(level))
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// α = 1 − coverage, in (0, 1).
    pub fn miscoverage(self) -> f64 {
        1.0 - self.0
    }
}

/// Random permutations (or sign flips) per p-value: at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "usize", into = "usize")]
pub struct Permutations(usize);

impl Permutations {
    pub fn new(b: usize) -> Result<Self, ParamError> {
        if b == 0 {
            return Err(ParamError::Permutations);
        }
        Ok(Permutations(b))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// A ridge penalty alpha: finite and ≥ 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Penalty(f64);

impl Penalty {
    pub fn new(alpha: f64) -> Result<Self, ParamError> {
        if !alpha.is_finite() || alpha < 0.0 {
            return Err(ParamError::Penalty(alpha));
        }
        Ok(Penalty(alpha))
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// 10^e for e in `exponents` (all finite and positive for |e| < 300).
    pub(super) fn powers_of_ten(exponents: std::ops::RangeInclusive<i32>) -> Vec<Penalty> {
        exponents.map(|e| Penalty(10f64.powi(e))).collect()
    }
}

/// The defaults of a study that does not set them: 5 folds, 90% coverage,
/// 999 permutations.
impl Default for Folds {
    fn default() -> Self {
        Folds(5)
    }
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage(0.9)
    }
}

impl Default for Permutations {
    fn default() -> Self {
        Permutations(999)
    }
}

macro_rules! number_conversions {
    ($($t:ident: $n:ty),*) => {$(
        impl TryFrom<$n> for $t {
            type Error = ParamError;
            fn try_from(v: $n) -> Result<Self, ParamError> {
                $t::new(v)
            }
        }
        impl From<$t> for $n {
            fn from(v: $t) -> $n {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

number_conversions!(Folds: usize, Coverage: f64, Permutations: usize, Penalty: f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_refused_when_made_and_when_read() {
        assert_eq!(Folds::new(1), Err(ParamError::Folds(1)));
        assert_eq!(Folds::new(2).unwrap().get(), 2);
        for bad in [0.0, 1.0, 1.5, -0.1, f64::NAN] {
            assert!(Coverage::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Coverage::new(0.8).unwrap().miscoverage(), 1.0 - 0.8);
        assert_eq!(Permutations::new(0), Err(ParamError::Permutations));
        for bad in [-1.0, f64::INFINITY, f64::NAN] {
            assert!(Penalty::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Penalty::new(0.0).unwrap().get(), 0.0);
        assert!(serde_json::from_str::<Folds>("1").is_err());
        assert!(serde_json::from_str::<Coverage>("1.5").is_err());
        assert_eq!(
            serde_json::to_string(&Coverage::new(0.9).unwrap()).unwrap(),
            "0.9"
        );
        assert_eq!(
            serde_json::from_str::<Permutations>("999").unwrap().get(),
            999
        );
        assert_eq!(Folds::new(5).unwrap().to_string(), "5");
    }
}
