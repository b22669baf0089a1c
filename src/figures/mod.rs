//! Paper-ready figures, drawn with plotters and written as SVG, PNG and PDF.
//!
//! Text is set in DejaVu Sans, which is compiled into the binary (`fonts/`, with its
//! licence), so a figure renders the same on a machine with no system fonts at all: PNG
//! glyphs are rasterised by `ab_glyph` from the embedded font, SVG text names
//! `DejaVu Sans, sans-serif`, and the PDF (converted from the SVG by usvg and svg2pdf with
//! only the bundled font loaded) embeds a subset of it. Colours are the Okabe–Ito palette,
//! viridis for order and a blue–vermillion diverging scale for signs; groups also differ by
//! marker shape. Sizes are in inches (single or double column, see [`options`]).
//!
//! This module reads no lossy tables: each figure takes plain values, and the report stage
//! (`report::figures`) builds them from the tables. Its public surface:
//! - [`information_plane`]: complexity I(X;Z) against expressivity I(Y;Z), one point per model;
//! - [`information_plane_layers`]: one path per model through its layers;
//! - [`trajectory`]: checkpoint series joined in order, coloured by step;
//! - [`layer_profiles`]: per-layer H(Z), complexity, expressivity, optimality against depth;
//! - [`score_vs_feature`] / [`scores_vs_feature`]: scores against a feature, with the OLS
//!   line, its confidence band and Spearman's rho;
//! - [`predicted_vs_actual`]: held-out predictions with the identity line, R² and MAE;
//! - [`ranking`]: predicted scores of unscored models with intervals;
//! - [`correlation_heatmap`]: features × correlations with each score;
//! - [`FigureOptions`], [`FigureSettings`], [`FigureKind`], [`FigureFormat`], [`FigureError`].
//!
//! Files are written atomically (rendered to a temporary file in the destination folder,
//! then renamed); points with non-finite coordinates are skipped and lines break there.

mod axes;
mod chart;
mod chart_draw;
mod colormap;
mod error;
mod figure;
mod geometry;
mod heatmap;
mod labels;
mod layer_plane;
#[cfg(test)]
pub(crate) mod layout_check;
mod legend;
mod legend_place;
mod markers;
pub mod options;
mod output;
mod panels;
mod pdf;
mod plane;
mod predicted;
mod profiles;
mod ranking;
mod scatter;
mod series;
mod stats;
mod style;
#[cfg(test)]
mod testing;
mod text_fit;
mod trajectory;

pub use error::FigureError;
pub use heatmap::{correlation_heatmap, CorrelationGrid};
pub use layer_plane::{information_plane_layers, LayerPath};
pub use options::{
    ColumnWidth, FigureFormat, FigureKind, FigureOptions, FigureSettings, FigureStyle,
};
pub use plane::{information_plane, PlanePoint};
pub use predicted::{predicted_vs_actual, Prediction};
pub use profiles::{layer_profiles, LayerProfile, OrderProfile, PreferenceProfile};
pub use ranking::{ranking, RankedModel};
pub use scatter::{score_vs_feature, scores_vs_feature, RhoNote, ScorePanel, XyPoint};
pub use trajectory::{trajectory, TrajectoryPoint};
