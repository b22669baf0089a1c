//! Colour scales: viridis (sequential, for an order such as training step) and a diverging
//! blue–white–vermillion scale (for signed correlations). Both stay readable for the common
//! forms of colour blindness and in greyscale (viridis is monotone in lightness; the
//! diverging ends are Okabe–Ito blue and vermillion).

use plotters::style::RGBColor;

/// Viridis at 0, 1/8, ..., 1 (matplotlib's values, rounded).
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 45, 123),
    (59, 82, 139),
    (44, 114, 142),
    (33, 145, 140),
    (40, 174, 128),
    (94, 201, 98),
    (173, 220, 48),
    (253, 231, 37),
];

const BLUE: (u8, u8, u8) = (0, 114, 178);
const WHITE: (u8, u8, u8) = (247, 247, 247);
const VERMILLION: (u8, u8, u8) = (213, 94, 0);

fn mix(a: (u8, u8, u8), b: (u8, u8, u8), t: f64) -> RGBColor {
    let m = |x: u8, y: u8| {
        (x as f64 + (y as f64 - x as f64) * t)
            .round()
            .clamp(0.0, 255.0) as u8
    };
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}

/// Viridis at `t` in [0, 1] (clamped; NaN gives the start).
pub(crate) fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    mix(VIRIDIS[i], VIRIDIS[i + 1], x - i as f64)
}

/// The diverging colour of `v` in [-1, 1]: blue for negative, vermillion for positive.
pub(crate) fn diverging(v: f64) -> RGBColor {
    let v = v.clamp(-1.0, 1.0);
    if v < 0.0 {
        mix(WHITE, BLUE, -v)
    } else {
        mix(WHITE, VERMILLION, v)
    }
}

/// Whether text on `c` should be white rather than dark (by relative luminance).
pub(crate) fn needs_light_text(c: RGBColor) -> bool {
    let l = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    l < 110.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(diverging(-1.0), RGBColor(0, 114, 178));
        assert_eq!(diverging(1.0), RGBColor(213, 94, 0));
        assert_eq!(diverging(0.0), RGBColor(247, 247, 247));
        assert!(needs_light_text(viridis(0.0)) && !needs_light_text(viridis(1.0)));
    }
}
