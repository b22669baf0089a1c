//! The report's figures: builds every figure the study asks for (by default, every one its
//! data supports) from the report's tables (`features`, `layers`), the scores and the fit,
//! and writes them under `figures/`. Each figure's values are columns of those tables, so a
//! figure can be redrawn from a saved report.

use std::path::{Path, PathBuf};

pub use super::figure_data::FigureData;
use super::figure_data::View;
use crate::figures::{self as fig, FigureError, FigureKind, FigureOptions};
use crate::fit::FitResult;

/// One figure of the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WrittenFigure {
    pub kind: FigureKind,
    pub title: String,
    /// Paths relative to the report folder, one per format.
    pub files: Vec<String>,
    /// Where its values come from (table and columns).
    pub source: &'static str,
    /// Values drawn that no table holds (the correlations with scores other than the fit's
    /// target), so that `report.json` has every number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<serde_json::Value>,
}

/// Where each figure's values come from.
pub fn source(kind: FigureKind) -> &'static str {
    match kind {
        FigureKind::InformationPlane => "features.csv: complexity, expressivity",
        FigureKind::InformationPlaneLayers => "layers.csv: complexity, expressivity by layer",
        FigureKind::Trajectory => "features.csv: complexity, expressivity; series = family, order = the models' `step`",
        FigureKind::LayerProfiles => "layers.csv: depth, entropy, complexity*, expressivity*, optimality*",
        FigureKind::ScoreVsFeature => "features.csv joined with the scores file on the model name; ρ and p as in correlations.csv",
        FigureKind::PredictedVsActual => "predictions.csv: actual, predicted",
        FigureKind::Ranking => "ranking.csv: predicted, lower, upper",
        FigureKind::Correlations => "correlations.csv for the fit's target; every cell in report.json",
    }
}

/// Draws the study's figures into `<dir>/figures/` and lists them in report order.
/// A figure whose data has no finite value is left out.
pub fn draw_all(data: &FigureData, dir: &Path) -> Result<Vec<WrittenFigure>, FigureError> {
    let fig_dir = dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|source| FigureError::Io {
        path: fig_dir.clone(),
        source,
    })?;
    let settings = &data.study.figures;
    let opts = settings.options();
    let mut out = Vec::new();
    for kind in FigureKind::ALL.into_iter().filter(|k| settings.wants(*k)) {
        let explicit = settings.include.is_some();
        for (title, drawn, values) in draw_kind(kind, data, &fig_dir, &opts, explicit) {
            match drawn {
                Ok(paths) => out.push(WrittenFigure {
                    kind,
                    title,
                    files: relative(&paths),
                    source: source(kind),
                    values,
                }),
                Err(FigureError::Empty { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(out)
}

fn relative(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            format!(
                "figures/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        })
        .collect()
}

/// A figure's title, what drawing it gave, and values no table holds.
type Drawn = (
    String,
    Result<Vec<PathBuf>, FigureError>,
    Option<serde_json::Value>,
);

/// One figure, with no values beyond the tables.
fn one(title: String, drawn: Result<Vec<PathBuf>, FigureError>) -> Vec<Drawn> {
    vec![(title, drawn, None)]
}

fn draw_kind(
    kind: FigureKind,
    d: &FigureData,
    dir: &Path,
    opts: &FigureOptions,
    explicit: bool,
) -> Vec<Drawn> {
    let at = dir.join(kind.name());
    let v = View::new(d);
    match kind {
        FigureKind::InformationPlane => {
            let title = "Information plane (unigram, mean over layers)".to_string();
            let drawn = fig::information_plane(&v.plane_points(), &title, &at, opts);
            one(title, drawn)
        }
        FigureKind::InformationPlaneLayers => {
            let paths = v.layer_paths();
            if paths.is_empty() {
                return vec![];
            }
            let title = "Information plane by layer (unigram)".to_string();
            let drawn = fig::information_plane_layers(&paths, &title, &at, opts);
            one(title, drawn)
        }
        FigureKind::Trajectory => {
            let points = v.trajectory_points(explicit);
            if points.is_empty() {
                return vec![];
            }
            let title = "Checkpoint trajectories (unigram)".to_string();
            let drawn = fig::trajectory(&points, &title, &at, opts);
            one(title, drawn)
        }
        FigureKind::LayerProfiles => {
            let profiles = v.profiles();
            if profiles.is_empty() {
                return vec![];
            }
            let title = "Per-layer profiles".to_string();
            let orders = &d.study.features.orders;
            let drawn = fig::layer_profiles(&profiles, orders, &title, &at, opts);
            one(title, drawn)
        }
        FigureKind::ScoreVsFeature => score_figures(&v, dir, opts),
        FigureKind::PredictedVsActual => match d.fit {
            Some(f) => {
                let title = format!("Held-out predictions of {}", f.settings.target);
                let points = v.predictions(f);
                let drawn =
                    fig::predicted_vs_actual(&points, &f.settings.target, &title, &at, opts);
                one(title, drawn)
            }
            None => vec![],
        },
        FigureKind::Ranking => match d.fit.filter(|f| !f.ranking.is_empty()) {
            Some(f) => ranking_figure(f, &at, opts),
            None => vec![],
        },
        FigureKind::Correlations => match v.correlation_grid() {
            Some(grid) => {
                let title = "Correlations with the scores".to_string();
                let values = serde_json::to_value(&grid).ok();
                let drawn = fig::correlation_heatmap(&grid, &title, &at, opts);
                vec![(title, drawn, values)]
            }
            None => vec![],
        },
    }
}

/// `scores_vs_<feature>` for each feature the score figures put on x.
fn score_figures(v: &View, dir: &Path, opts: &FigureOptions) -> Vec<Drawn> {
    v.score_features()
        .into_iter()
        .filter_map(|feature| {
            let panels = v.score_panels(&feature);
            if panels.is_empty() {
                return None;
            }
            let stem = format!("scores_vs_{feature}");
            let title = format!("Scores vs {feature}");
            let x_label = super::figure_data::feature_label(&feature);
            let drawn = fig::scores_vs_feature(&panels, &x_label, &title, &dir.join(stem), opts);
            Some((title, drawn, None))
        })
        .collect()
}

/// The fit's ranking of the models without a score.
fn ranking_figure(f: &FitResult, at: &Path, opts: &FigureOptions) -> Vec<Drawn> {
    let models: Vec<fig::RankedModel> = f
        .ranking
        .iter()
        .map(|r| fig::RankedModel {
            label: r.model.clone(),
            predicted: r.predicted,
            lower: r.lower,
            upper: r.upper,
            withheld: r.actual,
        })
        .collect();
    let title = "Models without a score, ranked".to_string();
    let (target, interval) = (&f.settings.target, Some(f.settings.interval.get()));
    let drawn = fig::ranking(&models, target, interval, &title, at, opts);
    one(title, drawn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::FigureFormat;
    use crate::models::ModelEntry;
    use crate::study::Study;
    use crate::table::{Table, Values};

    /// Three models of one checkpoint series and one other model, two layers each, without
    /// scores; one layer value is missing.
    fn study(steps: bool) -> (Study, Table, Table) {
        let names = ["ckpt-a", "ckpt-b", "ckpt-c", "other"];
        let models = names
            .iter()
            .enumerate()
            .map(|(i, n)| ModelEntry {
                name: n.to_string(),
                path: Some(PathBuf::from(n)),
                family: Some(if i < 3 { "series" } else { "else" }.to_string()),
                precision: Default::default(),
                id: None,
                revision: None,
                step: (steps && i < 3).then_some(1000.0 * i as f64),
                train_tokens: None,
                unreleased: false,
                root: None,
            })
            .collect();
        let figures = crate::figures::FigureSettings {
            formats: vec![FigureFormat::Svg],
            ..Default::default()
        };
        let study = Study {
            version: 1,
            name: "t".into(),
            description: None,
            file: PathBuf::from("t.yaml"),
            file_sha256: String::new(),
            models,
            corpus: Default::default(),
            features: Default::default(),
            scores: None,
            fit: None,
            figures,
            probes: vec![],
            revision_patterns: vec![],
        };
        let mut m = Table::default();
        m.push(
            "model",
            Values::Str(names.iter().map(|s| s.to_string()).collect()),
        )
        .push(
            "family",
            Values::Str(vec![
                "series".into(),
                "series".into(),
                "series".into(),
                "else".into(),
            ]),
        )
        .push("complexity", Values::F64(vec![0.3, 0.35, 0.4, 0.2]))
        .push("expressivity", Values::F64(vec![0.1, 0.15, 0.22, 0.05]));
        let mut l = Table::default();
        let rows = names.len() * 3;
        l.push(
            "model",
            Values::Str((0..rows).map(|r| names[r / 3].to_string()).collect()),
        )
        .push(
            "layer",
            Values::Int((0..rows).map(|r| (r % 3) as i64).collect()),
        )
        .push(
            "depth",
            Values::F64((0..rows).map(|r| (r % 3) as f64 / 2.0).collect()),
        );
        for (col, base) in [
            ("entropy", 0.8),
            ("complexity", 0.5),
            ("expressivity", 0.2),
            ("optimality", 0.4),
        ] {
            let mut v: Vec<f64> = (0..rows)
                .map(|r| base - 0.05 * (r % 3) as f64 + 0.01 * (r / 3) as f64)
                .collect();
            if col == "complexity" {
                v[4] = f64::NAN;
            }
            l.push(col, Values::F64(v));
        }
        (study, m, l)
    }

    fn kinds(figs: &[WrittenFigure]) -> Vec<FigureKind> {
        figs.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn draws_what_the_data_supports() {
        let dir = tempfile::tempdir().unwrap();
        let (study, models, layers) = study(true);
        let data = FigureData {
            study: &study,
            models: &models,
            layers: &layers,
            scores: None,
            fit: None,
        };
        let figs = draw_all(&data, dir.path()).unwrap();
        use FigureKind::*;
        assert_eq!(
            kinds(&figs),
            [
                InformationPlane,
                InformationPlaneLayers,
                Trajectory,
                LayerProfiles
            ]
        );
        for f in &figs {
            assert_eq!(f.files.len(), 1);
            assert!(dir.path().join(&f.files[0]).is_file(), "{:?}", f.files);
            assert!(!f.source.is_empty());
        }
        assert_eq!(figs[0].files, ["figures/information_plane.svg"]);
    }

    #[test]
    fn trajectory_needs_steps_unless_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let (mut study, models, layers) = study(false);
        let data = FigureData {
            study: &study,
            models: &models,
            layers: &layers,
            scores: None,
            fit: None,
        };
        assert!(!kinds(&draw_all(&data, dir.path()).unwrap()).contains(&FigureKind::Trajectory));
        study.figures.include = Some(vec![FigureKind::Trajectory, FigureKind::Ranking]);
        let data = FigureData {
            study: &study,
            models: &models,
            layers: &layers,
            scores: None,
            fit: None,
        };
        let figs = draw_all(&data, dir.path()).unwrap();
        assert_eq!(
            kinds(&figs),
            [FigureKind::Trajectory],
            "listing order; no ranking without a fit"
        );
    }
}
