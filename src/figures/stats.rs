//! The statistics the scatter plots show: Spearman rank correlation (from
//! [`crate::math::stats`]), a least-squares line with its R², and the 95% confidence band
//! of the fitted mean (Student's t quantile from [`crate::math::student_t`]).

use crate::math::student_t::t_quantile;

/// Spearman's rho (the fit stage's, average ranks for ties). `None` when it
/// is undefined (fewer than two points, or all x or all y tied).
pub(crate) fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    Some(crate::math::stats::spearman(x, y)).filter(|r| r.is_finite())
}

/// A fitted line `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fit {
    pub intercept: f64,
    pub slope: f64,
    /// Coefficient of determination; 1 when y is constant and fitted exactly.
    pub r2: f64,
    n: usize,
    mean_x: f64,
    sxx: f64,
    /// Residual sum of squares.
    rss: f64,
}

impl Fit {
    /// Half-width of the 95% confidence band of the fitted mean at `x`, or `None` with
    /// fewer than three points (no residual degrees of freedom).
    pub(crate) fn band_half_width(&self, x: f64) -> Option<f64> {
        let df = self.n.checked_sub(2).filter(|&d| d > 0)?;
        let s = (self.rss.max(0.0) / df as f64).sqrt();
        let se = s * (1.0 / self.n as f64 + (x - self.mean_x).powi(2) / self.sxx).sqrt();
        Some(t_quantile(0.975, df as f64) * se)
    }
}

/// Ordinary least squares of y on x; `None` when x does not vary.
pub(crate) fn ols(x: &[f64], y: &[f64]) -> Option<Fit> {
    let n = x.len();
    if n < 2 || y.len() != n {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r2 = if syy > 0.0 {
        (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let rss = (syy - slope * sxy).max(0.0);
    Some(Fit {
        intercept,
        slope,
        r2,
        n,
        mean_x: mx,
        sxx,
        rss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn spearman_known_values() {
        // Monotone but non-linear: rho = 1.
        assert!(close(
            spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 8.0, 27.0, 64.0]).unwrap(),
            1.0
        ));
        assert!(close(
            spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(),
            -1.0
        ));
        // With ties (checked against scipy.stats.spearmanr: 0.9486832980505139).
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((r - 0.948_683_298_050_513_9).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0], &[2.0]), None);
        assert_eq!(spearman(&[1.0, 1.0], &[2.0, 3.0]), None);
    }

    #[test]
    fn confidence_band() {
        // y = x + noise: the band is narrowest at the mean of x.
        let x = [0.0, 1.0, 2.0, 3.0, 4.0];
        let y = [0.1, 0.9, 2.2, 2.8, 4.1];
        let f = ols(&x, &y).unwrap();
        let (mid, edge) = (
            f.band_half_width(2.0).unwrap(),
            f.band_half_width(4.0).unwrap(),
        );
        assert!(mid > 0.0 && edge > mid);
        // Checked by hand: s² = rss / 3, se(2) = s / sqrt(5).
        let s = (f.rss / 3.0).sqrt();
        // t_{0.975, 3} = 3.182446305284263 (scipy.stats.t.ppf)
        assert!((mid - 3.182_446_305_284_263 * s / 5f64.sqrt()).abs() < 1e-9);
        assert!(ols(&[0.0, 1.0], &[0.0, 1.0])
            .unwrap()
            .band_half_width(0.5)
            .is_none());
    }

    #[test]
    fn ols_recovers_a_line() {
        let x = [0.0, 1.0, 2.0, 3.0];
        let y: Vec<f64> = x.iter().map(|v| 2.0 - 0.5 * v).collect();
        let f = ols(&x, &y).unwrap();
        assert!(close(f.slope, -0.5) && close(f.intercept, 2.0) && close(f.r2, 1.0));
        let f = ols(&[0.0, 1.0, 2.0], &[0.0, 1.0, 0.0]).unwrap();
        assert!(close(f.slope, 0.0) && close(f.r2, 0.0));
        assert_eq!(ols(&[1.0, 1.0], &[0.0, 1.0]), None);
        assert_eq!(ols(&[1.0], &[0.0]), None);
    }
}
