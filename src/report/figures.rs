//! The report's figures: builds every figure the study asks for (by default, every one its
//! data supports) from the report's tables (`features`, `layers`), the scores and the fit,
//! and writes them under `figures/`. Each figure's values are columns of those tables, so a
//! figure can be redrawn from a saved report.

use std::path::{Path, PathBuf};

use crate::figures::{self as fig, FigureError, FigureKind, FigureOptions};
use crate::fit::FitResult;
use crate::scores::Scores;
use crate::study::Study;
use crate::table::Table;

/// What the figures are drawn from.
pub struct FigureData<'a> {
    pub study: &'a Study,
    /// One row per model (`features.csv`).
    pub models: &'a Table,
    /// One row per model and layer (`layers.csv`).
    pub layers: &'a Table,
    pub scores: Option<&'a Scores>,
    pub fit: Option<&'a FitResult>,
}

/// One figure of the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WrittenFigure {
    pub kind: FigureKind,
    pub title: String,
    /// Paths relative to the report folder, one per format.
    pub files: Vec<String>,
}

/// Draws the study's figures into `<dir>/figures/` and lists them in report order.
/// A figure whose data has no finite value is left out.
pub fn draw_all(data: &FigureData, dir: &Path) -> Result<Vec<WrittenFigure>, FigureError> {
    let fig_dir = dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|source| FigureError::Io { path: fig_dir.clone(), source })?;
    let settings = &data.study.figures;
    let opts = settings.options();
    let mut out = Vec::new();
    for kind in FigureKind::ALL.into_iter().filter(|k| settings.wants(*k)) {
        let explicit = settings.include.is_some();
        for (title, drawn) in draw_kind(kind, data, &fig_dir, &opts, explicit) {
            match drawn {
                Ok(paths) => out.push(WrittenFigure { kind, title, files: relative(&paths) }),
                Err(FigureError::Empty { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

fn relative(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| format!("figures/{}", p.file_name().unwrap_or_default().to_string_lossy())).collect()
}

/// A figure's title and what drawing it gave.
type Drawn = (String, Result<Vec<PathBuf>, FigureError>);

fn draw_kind(kind: FigureKind, d: &FigureData, dir: &Path, opts: &FigureOptions, explicit: bool) -> Vec<Drawn> {
    let at = dir.join(kind.name());
    let one = |title: String, r: Result<Vec<PathBuf>, FigureError>| vec![(title, r)];
    let v = super::figure_data::View::new(d);
    match kind {
        FigureKind::InformationPlane => {
            let title = "Information plane (unigram, mean over layers)".to_string();
            one(title.clone(), fig::information_plane(&v.plane_points(), &title, &at, opts))
        }
        FigureKind::InformationPlaneLayers => {
            let paths = v.layer_paths();
            if paths.is_empty() {
                return vec![];
            }
            let title = "Information plane by layer (unigram)".to_string();
            one(title.clone(), fig::information_plane_layers(&paths, &title, &at, opts))
        }
        FigureKind::Trajectory => {
            let points = v.trajectory_points(explicit);
            if points.is_empty() {
                return vec![];
            }
            let title = "Checkpoint trajectories (unigram)".to_string();
            one(title.clone(), fig::trajectory(&points, &title, &at, opts))
        }
        FigureKind::LayerProfiles => {
            let profiles = v.profiles();
            if profiles.is_empty() {
                return vec![];
            }
            let title = "Per-layer profiles".to_string();
            one(title.clone(), fig::layer_profiles(&profiles, &d.study.features.orders, &title, &at, opts))
        }
        FigureKind::ScoreVsFeature => v
            .score_features()
            .into_iter()
            .filter_map(|feature| {
                let panels = v.score_panels(&feature);
                if panels.is_empty() {
                    return None;
                }
                let stem = format!("scores_vs_{feature}");
                let title = format!("Scores vs {feature}");
                Some((title.clone(), fig::scores_vs_feature(&panels, &super::figure_data::feature_label(&feature), &title, &dir.join(stem), opts)))
            })
            .collect(),
        FigureKind::PredictedVsActual => match d.fit {
            Some(f) => {
                let title = format!("Held-out predictions of {}", f.settings.target);
                one(title.clone(), fig::predicted_vs_actual(&v.predictions(f), &f.settings.target, &title, &at, opts))
            }
            None => vec![],
        },
        FigureKind::Ranking => match d.fit.filter(|f| !f.ranking.is_empty()) {
            Some(f) => {
                let models: Vec<fig::RankedModel> =
                    f.ranking.iter().map(|r| fig::RankedModel { label: r.model.clone(), predicted: r.predicted, lower: r.lower, upper: r.upper }).collect();
                let title = "Models without a score, ranked".to_string();
                one(title.clone(), fig::ranking(&models, &f.settings.target, Some(f.settings.interval), &title, &at, opts))
            }
            None => vec![],
        },
        FigureKind::Correlations => match v.correlation_grid() {
            Some(grid) => {
                let title = "Correlations with the scores".to_string();
                one(title.clone(), fig::correlation_heatmap(&grid, &title, &at, opts))
            }
            None => vec![],
        },
    }
}
