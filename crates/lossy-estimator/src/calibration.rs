//! Temperature calibration: the softmax temperature ε is chosen so that the
//! von Mises–Fisher kernel exp(cos/ε) is as concentrated as m bins can
//! resolve, i.e. KL(vMF(κ = 1/ε) ‖ uniform on S^{d−1}) = ln m.
//!
//! Three rules, all recorded in outputs:
//! - `find-eps` (the reference default): the Brent root of the Amos lower
//!   bound on the KL, on ε ∈ [1e-5, 1]. Needs d > 2.
//! - `exact`: the Brent root of the exact KL, via Bessel functions; the
//!   reference's `sphere_temp_calibration(mode="exact")`, meant for small d.
//! - `leading-order`: ε ≈ 1/√(2 d ln m).

use super::bessel::{ln_bessel_i, ln_gamma_half_integer};
use super::brent::brentq;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Calibration {
    /// The reference's default: root of the Amos lower bound of the KL.
    #[default]
    FindEps,
    /// Root of the exact KL (Bessel functions).
    Exact,
    /// The closed-form leading order 1/√(2 d ln m).
    LeadingOrder,
}

impl Calibration {
    pub const ALL: [Calibration; 3] = [
        Calibration::FindEps,
        Calibration::Exact,
        Calibration::LeadingOrder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Calibration::FindEps => "find-eps",
            Calibration::Exact => "exact",
            Calibration::LeadingOrder => "leading-order",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalibrationError {
    #[error("the number of bins must be at least 2 (got {0})")]
    TooFewBins(usize),
    #[error(
        "find-eps calibration needs d > 2 (got d = {0}); use --calibration exact or leading-order"
    )]
    DimensionTooSmall(usize),
    #[error("no temperature in [{lo}, {hi}] makes the KL equal ln {m} at d = {d} ({rule})")]
    NoRoot {
        m: usize,
        d: usize,
        lo: f64,
        hi: f64,
        rule: &'static str,
    },
}

/// The reference's bracket for `find_eps`.
const FIND_EPS_BRACKET: (f64, f64) = (1e-5, 1.0);
/// The reference's bracket for `sphere_temp_calibration`.
const EXACT_BRACKET: (f64, f64) = (1e-6, 1.0);

/// ε for `m` bins in dimension `d` under `rule`.
pub fn epsilon(rule: Calibration, m: usize, d: usize) -> Result<f64, CalibrationError> {
    if m < 2 {
        return Err(CalibrationError::TooFewBins(m));
    }
    let target = (m as f64).ln();
    let (f, bracket): (Box<dyn Fn(f64) -> f64>, _) = match rule {
        Calibration::LeadingOrder => return Ok(1.0 / (2.0 * d as f64 * target).sqrt()),
        Calibration::FindEps => {
            if d <= 2 {
                return Err(CalibrationError::DimensionTooSmall(d));
            }
            (
                Box::new(move |e| kl_lower_bound(e, d) - target),
                FIND_EPS_BRACKET,
            )
        }
        Calibration::Exact => (Box::new(move |e| kl_exact(e, d) - target), EXACT_BRACKET),
    };
    let (lo, hi) = bracket;
    let no_root = || CalibrationError::NoRoot {
        m,
        d,
        lo,
        hi,
        rule: rule.name(),
    };
    if !(f(lo) >= 0.0 && f(hi) <= 0.0) {
        return Err(no_root());
    }
    brentq(f, lo, hi, 1e-12, 1e-10, 100).ok_or_else(no_root)
}

/// Amos bound κ / (α + √(κ² + β²)).
fn g(alpha: f64, beta: f64, kappa: f64) -> f64 {
    kappa / (alpha + (kappa * kappa + beta * beta).sqrt())
}

/// Upper Amos envelope of ln Z_d(ε).
fn phi_plus(eps: f64, d: usize) -> f64 {
    let d = d as f64;
    let nu = d / 2.0 - 1.0;
    let inv = 1.0 / eps;
    let root = (inv * inv + nu * nu).sqrt();
    root - nu + nu * ((d - 2.0) / (nu + root)).ln()
}

/// Lower bound on KL(vMF(1/ε) ‖ U) on S^{d−1}.
pub fn kl_lower_bound(eps: f64, d: usize) -> f64 {
    let half = d as f64 / 2.0;
    g(half, half, 1.0 / eps) / eps - phi_plus(eps, d)
}

/// Exact KL(vMF(1/ε) ‖ U) = A(κ)/ε − ln Z_d(ε), with A the Bessel ratio
/// I_{d/2}(κ)/I_{d/2−1}(κ) and ln Z_d = ν ln(2ε) + ln Γ(d/2) + ln I_ν(1/ε).
pub fn kl_exact(eps: f64, d: usize) -> f64 {
    let nu = d as f64 / 2.0 - 1.0;
    let kappa = 1.0 / eps;
    let ln_i_nu = ln_bessel_i(nu, kappa);
    let ratio = (ln_bessel_i(nu + 1.0, kappa) - ln_i_nu).exp();
    let ln_z = nu * (2.0 * eps).ln() + ln_gamma_half_integer(d as f64 / 2.0) + ln_i_nu;
    ratio / eps - ln_z
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference default at m = 100 (method.md §2, computed with scipy).
    #[test]
    fn find_eps_matches_the_published_table() {
        let table = [
            (64, 0.0362299),
            (128, 0.027348),
            (256, 0.0199619),
            (576, 0.0135414),
            (1024, 0.0102176),
            (2048, 0.00725301),
            (4096, 0.00513858),
        ];
        for (d, want) in table {
            let got = epsilon(Calibration::FindEps, 100, d).unwrap();
            assert!((got - want).abs() / want < 5e-6, "d={d}: {got} vs {want}");
        }
        for (m, want) in [
            (10, 0.0102746),
            (50, 0.00787338),
            (200, 0.00675852),
            (1000, 0.00591207),
        ] {
            let got = epsilon(Calibration::FindEps, m, 2048).unwrap();
            assert!((got - want).abs() / want < 5e-6, "m={m}: {got} vs {want}");
        }
    }

    #[test]
    fn leading_order_is_closed_form() {
        let e = epsilon(Calibration::LeadingOrder, 100, 2048).unwrap();
        assert!((e - 1.0 / (2.0 * 2048.0 * 100f64.ln()).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn exact_kl_lies_between_the_bounds() {
        for d in [3usize, 8, 64] {
            for eps in [0.02, 0.1, 0.5] {
                let exact = kl_exact(eps, d);
                assert!(exact >= kl_lower_bound(eps, d) - 1e-9, "d={d} eps={eps}");
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(
            epsilon(Calibration::FindEps, 100, 2),
            Err(CalibrationError::DimensionTooSmall(2))
        );
        assert_eq!(
            epsilon(Calibration::FindEps, 1, 64),
            Err(CalibrationError::TooFewBins(1))
        );
        assert!(epsilon(Calibration::Exact, 100, 2).is_ok());
    }
}
