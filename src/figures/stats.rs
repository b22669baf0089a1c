//! The two statistics the scatter plots print: Spearman rank correlation (from
//! [`crate::fit::stats`]) and a least-squares line with its R².

/// Spearman's rho (the fit stage's, average ranks for ties). `None` when it
/// is undefined (fewer than two points, or all x or all y tied).
pub(crate) fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    Some(crate::fit::stats::spearman(x, y)).filter(|r| r.is_finite())
}

/// A fitted line `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fit {
    pub intercept: f64,
    pub slope: f64,
    /// Coefficient of determination; 1 when y is constant and fitted exactly.
    pub r2: f64,
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
    Some(Fit {
        intercept,
        slope,
        r2,
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
