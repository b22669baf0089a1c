//! Paper-ready figures: the information plane and score-versus-feature scatter plots.
//!
//! Every figure is written as SVG and/or PNG with the same layout. Text is set in
//! DejaVu Sans, which is compiled into the binary (`fonts/`), so a figure renders the
//! same on a machine with no system fonts at all: PNG glyphs are rasterised by
//! `ab_glyph` from the embedded font, and SVG text names `DejaVu Sans, sans-serif`.
//!
//! This module depends on nothing else in lossy. Its public surface is:
//! - [`information_plane`]: complexity I(X;Z) against expressivity I(Y;Z), one point per model;
//! - [`score_vs_feature`]: a benchmark score against a feature, with an OLS line and Spearman rho;
//! - [`FigureOptions`], [`FigureFormat`] and [`FigureError`].
//!
//! Files are written atomically (rendered to a temporary file in the destination folder,
//! then renamed), and points with non-finite coordinates are skipped.

mod axes;
mod chart;
mod error;
mod geometry;
mod labels;
mod legend;
mod markers;
mod output;
mod plane;
mod scatter;
mod stats;
mod style;

pub use error::FigureError;
pub use plane::{information_plane, PlanePoint};
pub use scatter::{score_vs_feature, XyPoint};

/// An output file format. Serialises as `"svg"` / `"png"`, as study files spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureFormat {
    /// Scalable vector graphics, text kept as text.
    Svg,
    /// Raster image at `width_px * dpi_scale` by `height_px * dpi_scale` pixels.
    Png,
}

impl FigureFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FigureFormat::Svg => "svg",
            FigureFormat::Png => "png",
        }
    }
}

/// How and where figures are rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureOptions {
    /// Formats to write; each gives one file `<stem>.<ext>`.
    pub formats: Vec<FigureFormat>,
    /// Logical width in pixels (the SVG size; font sizes are chosen for 640).
    pub width_px: u32,
    /// Logical height in pixels (the SVG size; font sizes are chosen for 480).
    pub height_px: u32,
    /// PNG pixel multiplier: a 640x480 figure at 2.0 gives a 1280x960 PNG.
    pub dpi_scale: f64,
}

impl Default for FigureOptions {
    fn default() -> Self {
        Self {
            formats: vec![FigureFormat::Svg, FigureFormat::Png],
            width_px: 640,
            height_px: 480,
            dpi_scale: 2.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_serialised_names() {
        let o = FigureOptions::default();
        assert_eq!(o.formats, [FigureFormat::Svg, FigureFormat::Png]);
        assert_eq!((o.width_px, o.height_px, o.dpi_scale), (640, 480, 2.0));
        let json = serde_json::to_string(&o.formats).unwrap();
        assert_eq!(json, r#"["svg","png"]"#);
        assert_eq!(FigureFormat::Png.extension(), "png");
    }
}
