//! What a study may ask of its figures: the figure kinds, the file formats, the page width
//! (one or two columns), the PNG resolution; and [`FigureOptions`], the render settings one
//! figure is drawn with.
//!
//! Layout happens in *logical units* of 1/120 inch, whatever the output: text sizes are
//! fixed in those units (tick labels 13 units = 7.8 pt), so every figure of a report, single
//! or double column, has the same typography on paper. A single-column figure (3.5 in) is
//! 420 units wide, a double-column one (7.16 in) 859. The SVG and PDF are that many inches
//! wide; the PNG has `width_in * dpi` pixels.

use serde::{Deserialize, Serialize};

/// Logical layout units per inch.
pub const UNITS_PER_INCH: f64 = 120.0;

/// An output file format. Serialises as `"svg"` / `"png"` / `"pdf"`, as study files spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureFormat {
    /// Scalable vector graphics, text kept as text, size in inches.
    Svg,
    /// Raster image at the chosen DPI.
    Png,
    /// PDF converted from the SVG, with the bundled font embedded (subset).
    Pdf,
}

impl FigureFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FigureFormat::Svg => "svg",
            FigureFormat::Png => "png",
            FigureFormat::Pdf => "pdf",
        }
    }
}

/// The figures lossy can draw; also their file stems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    /// Models on the information plane, coloured by family.
    InformationPlane,
    /// One path per model through its layers on the information plane.
    InformationPlaneLayers,
    /// Checkpoint series joined in training order, coloured by step.
    Trajectory,
    /// H(Z), complexity, expressivity, optimality against relative depth.
    LayerProfiles,
    /// A score against a feature, with the fitted line, its band and Spearman's ρ.
    ScoreVsFeature,
    /// Held-out predictions against actual scores.
    PredictedVsActual,
    /// Predicted scores of unscored models, with intervals.
    Ranking,
    /// Spearman and partial Spearman of every feature with every score.
    Correlations,
}

impl FigureKind {
    /// Every kind, in report order.
    pub const ALL: [FigureKind; 8] = [
        FigureKind::InformationPlane,
        FigureKind::InformationPlaneLayers,
        FigureKind::Trajectory,
        FigureKind::LayerProfiles,
        FigureKind::ScoreVsFeature,
        FigureKind::PredictedVsActual,
        FigureKind::Ranking,
        FigureKind::Correlations,
    ];

    /// The study-file spelling, which is also the file stem.
    pub fn name(self) -> &'static str {
        match self {
            FigureKind::InformationPlane => "information_plane",
            FigureKind::InformationPlaneLayers => "information_plane_layers",
            FigureKind::Trajectory => "trajectory",
            FigureKind::LayerProfiles => "layer_profiles",
            FigureKind::ScoreVsFeature => "score_vs_feature",
            FigureKind::PredictedVsActual => "predicted_vs_actual",
            FigureKind::Ranking => "ranking",
            FigureKind::Correlations => "correlations",
        }
    }
}

/// Page width of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnWidth {
    /// One column of a two-column paper: 3.5 in.
    Single,
    /// The full text width of a two-column paper: 7.16 in.
    Double,
}

impl ColumnWidth {
    /// The width in inches.
    pub fn inches(self) -> f64 {
        match self {
            ColumnWidth::Single => 3.5,
            ColumnWidth::Double => 7.16,
        }
    }
}

/// The look of a report's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FigureStyle {
    /// Paper typography: tick labels at 7.8 pt, thin lines.
    #[default]
    Paper,
    /// Slides and posters: text, markers, lines and margins 1.5 times larger
    /// on the same page width (the figure is laid out as a paper figure 1.5
    /// times narrower, then enlarged), for reading from a distance.
    Slides,
}

impl FigureStyle {
    /// How much larger than [`FigureStyle::Paper`] everything is drawn.
    pub(crate) fn zoom(self) -> f64 {
        match self {
            FigureStyle::Paper => 1.0,
            FigureStyle::Slides => 1.5,
        }
    }
}

/// Figure settings of a study (the `figures:` section, checked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureSettings {
    /// Kinds to draw; `None`: every kind the study's data supports.
    pub include: Option<Vec<FigureKind>>,
    pub formats: Vec<FigureFormat>,
    pub width: ColumnWidth,
    /// PNG pixels per inch.
    pub dpi: f64,
    pub style: FigureStyle,
}

impl Default for FigureSettings {
    fn default() -> Self {
        Self {
            include: None,
            formats: vec![FigureFormat::Svg, FigureFormat::Png],
            width: ColumnWidth::Double,
            dpi: 200.0,
            style: FigureStyle::Paper,
        }
    }
}

impl FigureSettings {
    /// Whether `kind` should be drawn when the data supports it.
    pub fn wants(&self, kind: FigureKind) -> bool {
        self.include.as_ref().is_none_or(|k| k.contains(&kind))
    }

    /// Render options for these settings.
    pub fn options(&self) -> FigureOptions {
        FigureOptions {
            formats: self.formats.clone(),
            width_in: self.width.inches(),
            height_in: None,
            dpi: self.dpi,
            style: self.style,
        }
    }
}

/// How and where one figure is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureOptions {
    /// Formats to write; each gives one file `<stem>.<ext>`.
    pub formats: Vec<FigureFormat>,
    /// Page width in inches.
    pub width_in: f64,
    /// Page height in inches; `None`: the figure's own (what its layout needs).
    pub height_in: Option<f64>,
    /// PNG pixels per inch.
    pub dpi: f64,
    /// Text and line sizes.
    pub style: FigureStyle,
}

impl Default for FigureOptions {
    fn default() -> Self {
        FigureSettings::default().options()
    }
}

impl FigureOptions {
    /// Logical width.
    pub(crate) fn width_units(&self) -> f64 {
        self.width_in * self.units_per_inch()
    }
    /// Layout units per inch of page: fewer under a zoomed style.
    pub(crate) fn units_per_inch(&self) -> f64 {
        UNITS_PER_INCH / self.style.zoom()
    }
    /// PNG pixels per logical unit.
    pub(crate) fn png_scale(&self) -> f64 {
        self.dpi / self.units_per_inch()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_serialised_names() {
        let o = FigureOptions::default();
        assert_eq!(o.formats, [FigureFormat::Svg, FigureFormat::Png]);
        assert_eq!((o.width_in, o.dpi), (7.16, 200.0));
        assert!((o.width_units() - 859.2).abs() < 1e-9);
        let json = serde_json::to_string(&[FigureFormat::Svg, FigureFormat::Pdf]).unwrap();
        assert_eq!(json, r#"["svg","pdf"]"#);
        assert_eq!(FigureFormat::Pdf.extension(), "pdf");
        for k in FigureKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        assert_eq!(ColumnWidth::Single.inches(), 3.5);
    }

    #[test]
    fn settings_select_kinds() {
        let mut s = FigureSettings::default();
        assert!(s.wants(FigureKind::Ranking));
        s.include = Some(vec![FigureKind::Trajectory]);
        assert!(s.wants(FigureKind::Trajectory) && !s.wants(FigureKind::Ranking));
        s.width = ColumnWidth::Single;
        assert_eq!(s.options().width_in, 3.5);
    }
}
