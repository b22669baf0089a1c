//! Axis ranges padded around the data, and tick labels with a consistent number of decimals.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;

/// At most this many tick labels on the x axis.
pub(crate) const X_TICKS: usize = 7;
/// At most this many tick labels on the y axis.
pub(crate) const Y_TICKS: usize = 8;
/// Fraction of the data span added on each side of an axis.
pub(crate) const PAD: f64 = 0.08;

/// Smallest and largest finite value, or `None` when there is none.
pub(crate) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens `(lo, hi)` by `frac` of its span on each side. A range of (near) zero width,
/// such as a single point, gets a half-width of 10% of its magnitude (1 around zero).
pub(crate) fn padded((lo, hi): (f64, f64), frac: f64) -> (f64, f64) {
    let span = hi - lo;
    let magnitude = lo.abs().max(hi.abs());
    if span > 1e-9 * magnitude && span.is_finite() {
        (lo - frac * span, hi + frac * span)
    } else {
        let mid = 0.5 * (lo + hi);
        let half = if magnitude > 0.0 {
            0.1 * magnitude
        } else {
            1.0
        };
        (mid - half, mid + half)
    }
}

/// Decimals needed to print the ticks plotters will choose for `(lo, hi)` with at most
/// `max_ticks` labels, so that every label on an axis has the same number of decimals.
pub(crate) fn tick_decimals((lo, hi): (f64, f64), max_ticks: usize) -> usize {
    let range: RangedCoordf64 = (lo..hi).into();
    let ticks = range.key_points(max_ticks);
    let step = ticks
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|s| *s > 0.0)
        .fold(f64::INFINITY, f64::min);
    let step = if step.is_finite() { step } else { hi - lo };
    if step.is_nan() || step <= 0.0 {
        return 2;
    }
    (-step.log10() - 1e-9).ceil().clamp(0.0, 8.0) as usize
}

/// The values plotters will tick on `(lo, hi)` with at most `max_ticks` labels.
pub(crate) fn tick_values((lo, hi): (f64, f64), max_ticks: usize) -> Vec<f64> {
    let range: RangedCoordf64 = (lo..hi).into();
    range.key_points(max_ticks)
}

/// The ticks plotters will label on `(lo, hi)`, formatted with `decimals` decimals.
pub(crate) fn tick_labels((lo, hi): (f64, f64), max_ticks: usize, decimals: usize) -> Vec<String> {
    let range: RangedCoordf64 = (lo..hi).into();
    range
        .key_points(max_ticks)
        .iter()
        .map(|v| format_tick(*v, decimals))
        .collect()
}

/// `v` with `decimals` decimals, never printing "-0.0".
pub(crate) fn format_tick(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v);
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_skips_non_finite() {
        assert_eq!(
            extent([f64::NAN, 2.0, -1.0, f64::INFINITY]),
            Some((-1.0, 2.0))
        );
        assert_eq!(extent([f64::NAN]), None);
        assert_eq!(extent(Vec::<f64>::new()), None);
    }

    #[test]
    fn padding_handles_points_and_spans() {
        let (lo, hi) = padded((0.0, 1.0), 0.1);
        assert!((lo + 0.1).abs() < 1e-12 && (hi - 1.1).abs() < 1e-12);
        let (lo, hi) = padded((0.5, 0.5), 0.1);
        assert!((lo - 0.45).abs() < 1e-12 && (hi - 0.55).abs() < 1e-12);
        assert_eq!(padded((0.0, 0.0), 0.1), (-1.0, 1.0));
    }

    #[test]
    fn decimals_follow_the_tick_step() {
        assert_eq!(tick_decimals((0.0, 1.0), 6), 1);
        assert_eq!(tick_decimals((0.31, 0.48), 6), 2);
        assert_eq!(tick_decimals((0.0, 100.0), 6), 0);
        assert_eq!(tick_decimals((20.0, 80.0), 7), 0);
        let labels = tick_labels((0.31, 0.48), 6, 2);
        assert!(labels.len() >= 3, "{labels:?}");
        assert!(labels.iter().all(|l| l.len() == 4), "{labels:?}");
    }

    #[test]
    fn no_negative_zero() {
        assert_eq!(format_tick(-0.0001, 2), "0.00");
        assert_eq!(format_tick(-0.5, 1), "-0.5");
        assert_eq!(format_tick(3.0, 0), "3");
    }
}
