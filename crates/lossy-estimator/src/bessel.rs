//! Exponentially scaled modified Bessel functions of the first kind,
//! `ln(e^{-x} I_nu(x))`, for the exact von Mises–Fisher KL used by the
//! exact-Bessel temperature calibration (small d).
//!
//! Method: the Poisson integral
//! `I_nu(x) = (x/2)^nu / (sqrt(pi) Gamma(nu+1/2)) * int_{-1}^{1} (1-t^2)^{nu-1/2} e^{xt} dt`
//! (valid for nu > -1/2), rewritten with `t = 1 - v/x` so that the integrand
//! `v^a (2 - v/x)^a e^{-v}` (a = nu - 1/2) is evaluated in the log domain and
//! integrated by double-exponential (tanh-sinh) quadrature, which is accurate
//! to ~1e-14 even with the endpoint singularities of fractional `a`.

use std::f64::consts::PI;

/// `ln Gamma(x)` for x a positive multiple of 1/2 (all lossy needs): exact
/// products, no approximation.
pub fn ln_gamma_half_integer(x: f64) -> f64 {
    let twice = (2.0 * x).round();
    assert!(
        twice >= 1.0 && (2.0 * x - twice).abs() < 1e-12,
        "ln_gamma_half_integer({x})"
    );
    let (mut acc, mut y) = if twice as i64 % 2 == 0 {
        (0.0, 1.0)
    } else {
        (0.5 * PI.ln(), 0.5)
    };
    while y < x - 1e-9 {
        acc += y.ln();
        y += 1.0;
    }
    acc
}

/// `ln I_nu(x)` for nu >= 0 a multiple of 1/2 and x > 0.
pub fn ln_bessel_i(nu: f64, x: f64) -> f64 {
    let a = nu - 0.5;
    nu * (0.5 * x).ln() - ln_gamma_half_integer(nu + 0.5) - 0.5 * PI.ln()
        + x
        + ln_scaled_integral(a, x)
}

/// `ln( int_0^2 (s(2-s))^a e^{-x s} ds )`. With s = v/x this is
/// `-(a+1) ln x + ln int_0^{2x} v^a (2 - v/x)^a e^{-v} dv`.
fn ln_scaled_integral(a: f64, x: f64) -> f64 {
    let log_f = |v: f64| -> f64 {
        if v <= 0.0 || v >= 2.0 * x {
            return f64::NEG_INFINITY;
        }
        a * v.ln() + a * (2.0 - v / x).ln() - v
    };
    // The mass sits near v = a with width ~ sqrt(a); past `tail` the integrand
    // is below e^-50 of its peak, so the range is cut there.
    let peak = a.max(0.0);
    let upper = (peak + 50.0 + 15.0 * (peak + 1.0).sqrt()).min(2.0 * x);
    let shift = log_f(peak.clamp(f64::MIN_POSITIVE, 0.5 * upper)).max(log_f(0.5 * upper));
    let integral = tanh_sinh(|v| (log_f(v) - shift).exp(), 0.0, upper);
    -(a + 1.0) * x.ln() + integral.ln() + shift
}

/// Tanh-sinh quadrature of `f` over `[lo, hi]`.
fn tanh_sinh(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let half = 0.5 * (hi - lo);
    let mid = 0.5 * (hi + lo);
    let h = 1.0 / 64.0;
    let mut sum = 0.0;
    let steps = (4.5 / h) as i64;
    for k in -steps..=steps {
        let t = k as f64 * h;
        let u = 0.5 * PI * t.sinh();
        let cosh_u = u.cosh();
        // distance from the nearer endpoint, computed without cancellation
        let from_end = half / (u.abs().exp() * cosh_u);
        let x = if t < 0.0 {
            lo + from_end
        } else {
            hi - from_end
        };
        let x = if t == 0.0 { mid } else { x };
        let weight = 0.5 * PI * t.cosh() / (cosh_u * cosh_u);
        let y = f(x);
        if y.is_finite() {
            sum += weight * y;
        }
    }
    sum * h * half
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!((ln_gamma_half_integer(1.0) - 0.0).abs() < 1e-15);
        assert!((ln_gamma_half_integer(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma_half_integer(0.5) - PI.sqrt().ln()).abs() < 1e-15);
        // Gamma(7/2) = 15 sqrt(pi) / 8
        assert!((ln_gamma_half_integer(3.5) - (15.0 * PI.sqrt() / 8.0).ln()).abs() < 1e-13);
    }

    #[test]
    fn half_order_bessel_matches_closed_forms() {
        for &x in &[0.3, 1.0, 5.0, 27.6, 300.0, 5000.0] {
            // I_{1/2}(x) = sqrt(2/(pi x)) sinh x ; I_{3/2}(x) = sqrt(2/(pi x)) (cosh x - sinh x / x)
            let pre = (2.0 / (PI * x)).sqrt().ln();
            let ln_sinh = x + (-(-2.0 * x).exp_m1()).ln() - 2f64.ln();
            let i_half = pre + ln_sinh;
            let ratio = 1.0 / (x).tanh() - 1.0 / x; // I_{3/2}/I_{1/2}
            let i_three_half = i_half + ratio.ln();
            assert!(
                (ln_bessel_i(0.5, x) - i_half).abs() < 1e-11 * i_half.abs().max(1.0),
                "x={x}"
            );
            assert!(
                (ln_bessel_i(1.5, x) - i_three_half).abs() < 1e-11 * i_three_half.abs().max(1.0),
                "x={x}: {} vs {}",
                ln_bessel_i(1.5, x),
                i_three_half
            );
        }
    }

    #[test]
    fn integer_order_matches_series() {
        // I_nu(x) = sum_k (x/2)^{2k+nu} / (k! (k+nu)!) for moderate x
        for &nu in &[1.0f64, 7.0, 31.0] {
            for &x in &[0.5f64, 3.0, 20.0] {
                let mut sum = 0.0;
                let mut k = 0.0;
                loop {
                    let ln_term = (2.0 * k + nu) * (x / 2.0).ln()
                        - ln_gamma_half_integer(k + 1.0)
                        - ln_gamma_half_integer(k + nu + 1.0);
                    let term = ln_term.exp();
                    sum += term;
                    if term < sum * 1e-18 {
                        break;
                    }
                    k += 1.0;
                }
                let got = ln_bessel_i(nu, x);
                assert!(
                    (got - sum.ln()).abs() < 1e-11 * sum.ln().abs().max(1.0),
                    "nu={nu} x={x}: {got} vs {}",
                    sum.ln()
                );
            }
        }
    }
}
