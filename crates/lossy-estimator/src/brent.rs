//! Brent's root finder, following the classic algorithm used by
//! `scipy.optimize.brentq` (inverse quadratic interpolation, secant and
//! bisection steps), so lossy's temperature roots agree with the reference's.

/// Finds a root of `f` in `[a, b]`, where `f(a)` and `f(b)` differ in sign.
/// Stops when the bracket is narrower than `xtol + rtol * |x|`.
pub fn brentq(
    f: impl Fn(f64) -> f64,
    a: f64,
    b: f64,
    xtol: f64,
    rtol: f64,
    max_iter: usize,
) -> Option<f64> {
    let (mut xpre, mut xcur) = (a, b);
    let (mut fpre, mut fcur) = (f(xpre), f(xcur));
    let (mut xblk, mut fblk) = (0.0, 0.0);
    let (mut spre, mut scur) = (0.0f64, 0.0f64);
    if fpre == 0.0 {
        return Some(xpre);
    }
    if fcur == 0.0 {
        return Some(xcur);
    }
    if fpre.is_sign_negative() == fcur.is_sign_negative() || !fpre.is_finite() || !fcur.is_finite()
    {
        return None;
    }
    for _ in 0..max_iter {
        if fpre != 0.0 && fcur != 0.0 && fpre.is_sign_negative() != fcur.is_sign_negative() {
            xblk = xpre;
            fblk = fpre;
            spre = xcur - xpre;
            scur = spre;
        }
        if fblk.abs() < fcur.abs() {
            xpre = xcur;
            xcur = xblk;
            xblk = xpre;
            fpre = fcur;
            fcur = fblk;
            fblk = fpre;
        }
        let delta = (xtol + rtol * xcur.abs()) / 2.0;
        let sbis = (xblk - xcur) / 2.0;
        if fcur == 0.0 || sbis.abs() < delta {
            return Some(xcur);
        }
        if spre.abs() > delta && fcur.abs() < fpre.abs() {
            let stry = if xpre == xblk {
                // secant
                -fcur * (xcur - xpre) / (fcur - fpre)
            } else {
                // inverse quadratic interpolation
                let dpre = (fpre - fcur) / (xpre - xcur);
                let dblk = (fblk - fcur) / (xblk - xcur);
                -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            };
            if 2.0 * stry.abs() < spre.abs().min(3.0 * sbis.abs() - delta) {
                spre = scur;
                scur = stry;
            } else {
                spre = sbis;
                scur = sbis;
            }
        } else {
            spre = sbis;
            scur = sbis;
        }
        xpre = xcur;
        fpre = fcur;
        xcur += if scur.abs() > delta {
            scur
        } else if sbis > 0.0 {
            delta
        } else {
            -delta
        };
        fcur = f(xcur);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_simple_roots() {
        let r = brentq(|x| x * x - 2.0, 0.0, 2.0, 1e-14, 1e-14, 100).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-13);
        let r = brentq(|x| x.cos() - x, 0.0, 1.0, 1e-14, 1e-14, 100).unwrap();
        assert!((r - 0.7390851332151607).abs() < 1e-13);
    }

    #[test]
    fn rejects_an_unbracketed_interval() {
        assert!(brentq(|x| x * x + 1.0, -1.0, 1.0, 1e-12, 1e-10, 100).is_none());
    }
}
