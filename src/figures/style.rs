//! Visual style shared by every figure: the colour-blind-safe Okabe–Ito palette, text and
//! marker sizes, and registration of the bundled DejaVu Sans font.
//!
//! All sizes are given in logical units (1/120 in, see `options`) and multiplied by the render
//! scale, so an SVG and its PNG have the same layout. Text sizes are em sizes in CSS
//! pixels. plotters' "font size" means different things per backend (the SVG backend
//! writes `font-size = size / 1.24`; the ab_glyph rasteriser scales ascent − descent to
//! `size`), so [`Style`] converts per target, and text in both formats has the same em.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use plotters::style::{register_font, FontStyle, IntoFont, RGBColor, TextStyle};

/// The only font family any figure uses; registered from the embedded font.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// What SVG files name as their font: the embedded face first, then the generic family.
pub(crate) const SVG_FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

/// DejaVu Sans (Bitstream Vera licence, see `fonts/LICENSE`).
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// Registers the embedded font for `FONT_FAMILY` (normal style) once per process.
/// Returns false if the font could not be parsed (then no text can be drawn).
pub(crate) fn ensure_fonts() -> bool {
    static ONCE: Once = Once::new();
    static OK: AtomicBool = AtomicBool::new(false);
    ONCE.call_once(|| {
        let ok = register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok();
        OK.store(ok, Ordering::SeqCst);
    });
    OK.load(Ordering::SeqCst)
}

/// The Okabe–Ito palette, ordered so that the first colours are the most distinct on white;
/// yellow comes late because it is faint on white (markers carry a dark outline).
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// Text, axes and marker outlines.
pub(crate) const INK: RGBColor = RGBColor(34, 34, 34);
/// Reference lines (the IB bound, the OLS fit).
pub(crate) const REFERENCE: RGBColor = RGBColor(80, 80, 80);
/// Major grid lines.
pub(crate) const GRID: RGBColor = RGBColor(224, 224, 224);
/// Legend frame.
pub(crate) const FRAME: RGBColor = RGBColor(170, 170, 170);
/// Points that belong to no group, when other points do.
pub(crate) const UNGROUPED: RGBColor = RGBColor(140, 140, 140);

const TITLE_PX: f64 = 17.0;
const PANEL_TITLE_PX: f64 = 14.0;
const AXIS_PX: f64 = 16.0;
const TICK_PX: f64 = 13.0;
const LEGEND_PX: f64 = 13.0;
const ANNOTATION_PX: f64 = 12.0;
/// plotters size per em pixel in SVG output.
const SVG_SIZE_PER_EM: f64 = 1.24;
/// plotters size per em pixel when rasterised: DejaVu Sans' hhea ascent − descent over its
/// units per em, (1901 + 483) / 2048.
const RASTER_SIZE_PER_EM: f64 = 2384.0 / 2048.0;

/// What a rendering produces; it decides how text sizes map to plotters sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Svg,
    Raster,
}

/// The kinds of text in a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    Title,
    PanelTitle,
    AxisLabel,
    TickLabel,
    Legend,
    Annotation,
}

impl TextKind {
    fn css_px(self) -> f64 {
        match self {
            TextKind::Title => TITLE_PX,
            TextKind::PanelTitle => PANEL_TITLE_PX,
            TextKind::AxisLabel => AXIS_PX,
            TextKind::TickLabel => TICK_PX,
            TextKind::Legend => LEGEND_PX,
            TextKind::Annotation => ANNOTATION_PX,
        }
    }
}

/// Sizes for one rendering, in device pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Device pixels per logical pixel.
    pub scale: f64,
    pub target: Target,
}

impl Style {
    pub(crate) fn new(scale: f64, target: Target) -> Self {
        Self { scale, target }
    }

    /// A logical length in device pixels.
    pub(crate) fn px(&self, logical: f64) -> f64 {
        logical * self.scale
    }

    /// A logical length in whole device pixels (at least 1).
    pub(crate) fn ipx(&self, logical: f64) -> i32 {
        (logical * self.scale).round().max(1.0) as i32
    }

    /// The font for a kind of text, at this scale.
    pub(crate) fn font(&self, role: TextKind) -> TextStyle<'static> {
        let per_em = match self.target {
            Target::Svg => SVG_SIZE_PER_EM,
            Target::Raster => RASTER_SIZE_PER_EM,
        };
        (FONT_FAMILY, role.css_px() * per_em * self.scale)
            .into_font()
            .color(&INK)
    }

    /// Size of `text` in device pixels: DejaVu Sans metrics at the logical size, scaled, so
    /// that layout decisions (label sides, legend corner) are the same in the SVG and the
    /// PNG. No backend is needed: plotters' backends all measure text by its layout box.
    pub(crate) fn text_size(&self, text: &str, role: TextKind) -> (f64, f64) {
        match Style::new(1.0, Target::Raster)
            .font(role)
            .font
            .layout_box(text)
        {
            Ok(((x0, y0), (x1, y1))) => (
                self.px((x1 - x0).max(0) as f64),
                self.px((y1 - y0).max(0) as f64),
            ),
            Err(_) => (0.0, 0.0),
        }
    }

    /// Marker radius; smaller when many points share the plot.
    pub(crate) fn marker_radius(&self, n_points: usize) -> f64 {
        let logical = if n_points > 30 { 4.0 } else { 5.0 };
        self.px(logical)
    }
    /// Width of reference lines.
    pub(crate) fn line_width(&self) -> u32 {
        self.ipx(2.0) as u32
    }
    /// Width of marker outlines, axes and frames.
    pub(crate) fn thin_width(&self) -> u32 {
        self.ipx(1.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_registers_once_and_parses() {
        assert!(ensure_fonts());
        assert!(ensure_fonts());
        assert!(DEJAVU_SANS.len() > 100_000);
    }

    #[test]
    fn sizes_scale_with_the_render() {
        let one = Style::new(1.0, Target::Svg);
        let two = Style::new(2.0, Target::Raster);
        assert_eq!(two.px(5.0), 2.0 * one.px(5.0));
        // SVG font-size = size / 1.24 = 16 CSS px.
        assert!((one.font(TextKind::AxisLabel).font.get_size() - 16.0 * 1.24).abs() < 1e-9);
        let raster = two.font(TextKind::TickLabel).font.get_size();
        assert!((raster - 2.0 * 13.0 * 2384.0 / 2048.0).abs() < 1e-9);
        assert_eq!(one.thin_width(), 1);
        assert_eq!(two.line_width(), 4);
    }

    #[test]
    fn palette_is_okabe_ito() {
        let mut rgb: Vec<_> = PALETTE.iter().map(|c| (c.0, c.1, c.2)).collect();
        rgb.sort();
        rgb.dedup();
        assert_eq!(rgb.len(), 8);
        assert!(rgb.contains(&(230, 159, 0)) && rgb.contains(&(204, 121, 167)));
    }
}
