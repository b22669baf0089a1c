//! `lossy run`: executes a checked study stage by stage and writes its report.
//! The only module that knows the whole flow; each stage stays independent.

use crate::corpus::{Corpus, CorpusError};
use crate::features::estimator::{Estimator, EstimatorError};
use crate::features::{self, FeatureError, ModelRow};
use crate::figures::FigureError;
use crate::fit::{self, FitError, FitResult};
use crate::models::{tokenizer::Tokenizer, Model, ModelError, ModelFiles};
use crate::report::{self, manifest::ScoresRecord, manifest::Seeds, Manifest, ModelRecord};
use crate::scores::{ScoreError, Scores};
use crate::study::Study;
use crate::table::{Table, TableError, Values};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    #[error("model `{name}`: {source}")]
    Model { name: String, source: ModelError },
    #[error("model `{name}`: {source}")]
    Features { name: String, source: FeatureError },
    #[error("model `{name}`: {source}")]
    Estimator { name: String, source: EstimatorError },
    #[error("model `{name}`: {source}")]
    Tokenize { name: String, source: CorpusError },
    #[error(transparent)]
    Scores(#[from] ScoreError),
    #[error("fit of `{target}`: {source}")]
    Fit { target: String, source: FitError },
    #[error(transparent)]
    Figure(#[from] FigureError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("writing the report in {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Where progress lines go (stderr in the CLI, nowhere in tests).
pub trait Progress {
    fn line(&mut self, msg: &str);
}

impl<F: FnMut(&str)> Progress for F {
    fn line(&mut self, msg: &str) {
        self(msg)
    }
}

/// What a finished run produced.
pub struct RunSummary {
    pub report_dir: PathBuf,
    pub manifest: Manifest,
    pub fit: Option<FitResult>,
}

/// Runs `study` and writes its report to `output` (replacing an older one
/// only once the new one is complete).
pub fn run(study: &Study, output: &Path, progress: &mut dyn Progress) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Io { path, source }
    };
    let staging = report::Staging::new(output).map_err(io(output))?;
    let dir = staging.dir.clone();

    let corpus = Corpus::load(&study.corpus)?;
    progress.line(&format!("corpus: {} documents (sha256 {})", corpus.documents.len(), &corpus.sha256[..12]));

    let device = candle_core::Device::Cpu;
    let mut rows = Vec::new();
    let mut records = Vec::new();
    let mut estimators: Vec<Estimator> = Vec::new();
    for (i, entry) in study.models.iter().enumerate() {
        let t0 = Instant::now();
        let name = entry.name.clone();
        let model_err = |source| RunError::Model { name: name.clone(), source };
        let files = ModelFiles::locate(&entry.path).map_err(model_err)?;
        let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(model_err)?;
        let model = Model::load_as(files, &device, entry.precision).map_err(model_err)?;
        let docs = corpus.tokenize(&tokenizer, &study.corpus).map_err(|source| RunError::Tokenize { name: name.clone(), source })?;
        let d = model.hidden_size();
        if !estimators.iter().any(|e| e.d == d) {
            let est = Estimator::new(&study.features.estimator, d).map_err(|source| RunError::Estimator { name: name.clone(), source })?;
            estimators.push(est);
        }
        let est = estimators.iter().find(|e| e.d == d).expect("estimator for this width");
        let feats = features::extract(&model, &docs, &study.features, est).map_err(|source| RunError::Features { name: name.clone(), source })?;
        let seconds = t0.elapsed().as_secs_f64();
        progress.line(&format!(
            "[{}/{}] {name}: {} layers, d = {d}, {} tokens, {} positions, {seconds:.1}s",
            i + 1,
            study.models.len(),
            model.num_layers(),
            feats.tokens,
            feats.rows
        ));
        records.push(ModelRecord {
            name: name.clone(),
            family: entry.family.clone(),
            path: entry.path.clone(),
            architecture: model.config.model_type.clone(),
            layers: model.num_layers(),
            d,
            non_embedding_params: model.config.non_embedding_params(),
            sha256: model.files.sha256.clone(),
            documents: feats.documents,
            tokens: feats.tokens,
            estimator_rows: feats.rows,
            seconds,
        });
        rows.push(ModelRow { name, family: entry.family.clone(), d, params: model.config.non_embedding_params(), features: feats });
    }

    let mut files = Vec::new();
    let layer_refs: Vec<(&str, &features::ModelFeatures)> = rows.iter().map(|r| (r.name.as_str(), &r.features)).collect();
    let layers = features::layer_table(&layer_refs, &study.features);
    let model_table = features::model_table(&rows, &study.features);
    for (table, stem) in [(&model_table, "features"), (&layers, "layers")] {
        table.write_csv(&dir.join(format!("{stem}.csv")))?;
        table.write_parquet(&dir.join(format!("{stem}.parquet")))?;
        files.extend([format!("{stem}.csv"), format!("{stem}.parquet")]);
    }

    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let scores = study.scores.as_ref().map(|s| Scores::load(s, &names)).transpose()?;
    if let Some(s) = &scores {
        if !s.unmatched_models.is_empty() {
            progress.line(&format!("scores: no row for {}", s.unmatched_models.join(", ")));
        }
    }

    let fit = match (&study.fit, &scores) {
        (Some(settings), Some(scores)) => {
            let result = run_fit(settings, &names, &model_table, scores, &study.features)?;
            progress.line(&format!(
                "fit: {} ~ {}: held-out R² = {:.3} (baseline {:.3}), MAE = {:.4}",
                settings.target,
                settings.features.join(" + "),
                result.metrics.r2,
                result.baseline.r2,
                result.metrics.mae
            ));
            files.extend(write_fit_tables(&result, &model_table, &dir)?);
            crate::io::atomic::write(&dir.join("fit.json"), &serde_json::to_vec_pretty(&result).expect("fit serialises")).map_err(io(&dir))?;
            files.push("fit.json".into());
            Some(result)
        }
        _ => None,
    };

    let figure_data = report::FigureData { study, models: &model_table, layers: &layers, scores: scores.as_ref(), fit: fit.as_ref() };
    let figures = report::draw_figures(&figure_data, &dir)?;
    files.extend(figures.iter().flat_map(|f| f.files.clone()));
    report::write_json(&dir, &figure_data, &figures).map_err(io(&dir))?;
    files.push("report.json".into());

    let manifest = Manifest {
        lossy_version: env!("CARGO_PKG_VERSION"),
        git_commit: report::GIT_COMMIT,
        host: report::Host::current(),
        study_sha256: study.file_sha256.clone(),
        study: study.clone(),
        models: records,
        corpus: corpus.record(&study.corpus),
        estimators: estimators.iter().map(Estimator::record).collect(),
        seeds: Seeds { reference_points: study.features.estimator.seed, null_labels: study.features.null_seed() },
        scores: scores.as_ref().map(|s| ScoresRecord {
            path: s.source.clone(),
            sha256: s.sha256.clone(),
            unmatched_models: s.unmatched_models.clone(),
            unused_rows: s.unused_rows.clone(),
        }),
        files: {
            let mut f = files.clone();
            f.extend(["report.md".to_string(), "manifest.json".to_string()]);
            f
        },
        seconds_total: started.elapsed().as_secs_f64(),
    };
    let md = report::render_markdown(&manifest, &model_table, fit.as_ref(), &figures);
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    crate::io::atomic::write(&dir.join("manifest.json"), &json).map_err(io(&dir))?;
    crate::io::atomic::write(&dir.join("report.md"), md.as_bytes()).map_err(io(&dir))?;
    let report_dir = staging.commit().map_err(io(output))?;
    Ok(RunSummary { report_dir, manifest, fit })
}

/// The study's fit over the model table and the scores.
fn run_fit(settings: &fit::FitSettings, names: &[String], models: &Table, scores: &Scores, features: &crate::features::FeatureSettings) -> Result<FitResult, RunError> {
    let err = |source| RunError::Fit { target: settings.target.clone(), source };
    let y = scores.column_for(&settings.target, names).unwrap_or_else(|| vec![f64::NAN; names.len()]);
    let column = |name: &str| models.f64s(name).unwrap_or_else(|| vec![f64::NAN; names.len()]);
    let cols: Vec<Vec<f64>> = settings.features.iter().map(|f| column(f)).collect();
    let x: Vec<Vec<f64>> = (0..names.len()).map(|i| cols.iter().map(|c| c[i]).collect()).collect();
    let families = models.strs("family").unwrap_or_default().to_vec();
    let columns: Vec<(String, Vec<f64>)> = features.model_feature_names().into_iter().map(|n| { let v = column(&n); (n, v) }).collect();
    let log_params = column("log_params");
    let input = fit::FitInput { names, families: &families, x: &x, y: &y, columns: &columns, log_params: &log_params };
    fit::fit_study(settings, &input).map_err(err)
}

/// predictions.csv, correlations.csv and (when some models have no score)
/// ranking.csv. Returns the file names.
fn write_fit_tables(f: &FitResult, models: &Table, dir: &Path) -> Result<Vec<String>, RunError> {
    let names = models.strs("model").unwrap_or_default();
    let families = models.strs("family").unwrap_or_default();
    let family_of = |m: &String| names.iter().position(|n| n == m).map(|i| families[i].clone()).unwrap_or_default();
    let mut t = Table::default();
    t.push("model", Values::Str(f.models.clone()))
        .push("family", Values::Str(f.models.iter().map(family_of).collect()))
        .push("actual", Values::F64(f.actual.clone()))
        .push("predicted", Values::F64(f.predicted.clone()))
        .push("residual", Values::F64(f.actual.iter().zip(&f.predicted).map(|(a, p)| a - p).collect()));
    t.write_csv(&dir.join("predictions.csv"))?;
    let mut c = Table::default();
    c.push("feature", Values::Str(f.correlations.iter().map(|c| c.feature.clone()).collect()))
        .push("n", Values::Int(f.correlations.iter().map(|c| c.n as i64).collect()))
        .push("spearman", Values::F64(f.correlations.iter().map(|c| c.spearman).collect()))
        .push("p_value", Values::F64(f.correlations.iter().map(|c| c.p_value).collect()))
        .push("partial_spearman", Values::F64(f.correlations.iter().map(|c| c.partial_spearman).collect()))
        .push("partial_p_value", Values::F64(f.correlations.iter().map(|c| c.partial_p_value).collect()));
    c.write_csv(&dir.join("correlations.csv"))?;
    let mut out = vec!["predictions.csv".to_string(), "correlations.csv".to_string()];
    if !f.ranking.is_empty() {
        let mut r = Table::default();
        r.push("rank", Values::Int((1..=f.ranking.len() as i64).collect()))
            .push("model", Values::Str(f.ranking.iter().map(|r| r.model.clone()).collect()))
            .push("predicted", Values::F64(f.ranking.iter().map(|r| r.predicted).collect()))
            .push("lower", Values::F64(f.ranking.iter().map(|r| r.lower).collect()))
            .push("upper", Values::F64(f.ranking.iter().map(|r| r.upper).collect()));
        r.write_csv(&dir.join("ranking.csv"))?;
        out.push("ranking.csv".into());
    }
    Ok(out)
}
