//! `lossy run`: executes a checked study stage by stage and writes its report.
//! The only module that knows the whole flow; each stage stays independent.
//! [`features_stage`] computes the features ([`probe`]: models and corpus →
//! features) or reads them from an earlier run's table; [`plan`] is `lossy
//! plan`, the same resolution without running any model.

mod cache_key;
mod features_stage;
#[cfg(test)]
mod figure_layout;
mod locate;
mod passes;
pub mod plan;
mod probe;
pub mod probe_sets;
pub mod shard;
mod shard_probes;
pub mod watch;

use crate::corpus::{Corpus, CorpusError};
use crate::features::estimator::{Estimator, EstimatorError};
use crate::features::FeatureError;
use crate::figures::FigureError;
use crate::fit::{self, FitError, FitResult};
use crate::hub::{Hub, HubError};
use crate::models::hub_source::FetchError;
use crate::models::{DeviceError, ModelError};
use crate::report::{self, manifest::Seeds, Manifest, ModelRecord};
use crate::scores::{ModelKey, ScoreError, ScoreSettings, Scores, SnapshotUse, SourceKind};
use crate::study::Study;
use crate::table::{Table, TableError, Values};
pub use features_stage::FeaturesFrom;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    #[error("model `{name}`")]
    Model { name: String, source: ModelError },
    #[error("model `{name}`")]
    Fetch { name: String, source: FetchError },
    #[error("model `{name}`")]
    Features { name: String, source: FeatureError },
    #[error("model `{name}`")]
    Estimator {
        name: String,
        source: EstimatorError,
    },
    #[error("model `{name}`")]
    Tokenize { name: String, source: CorpusError },
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(transparent)]
    Scores(#[from] ScoreError),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("fit of `{target}`")]
    Fit { target: String, source: FitError },
    #[error(transparent)]
    Figure(#[from] FigureError),
    #[error(transparent)]
    Output(#[from] report::OutputError),
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("features table {path}: {reason}")]
    FeatureTable { path: PathBuf, reason: String },
    #[error("fit feature `{column}` is not a numeric column of {path} (columns: {columns})")]
    MissingFeature {
        column: String,
        path: PathBuf,
        columns: String,
    },
    #[error("score column `{column}` is not in the scores that were loaded ({sources}); the leaderboard snapshot, for one, has no raw scores")]
    MissingScore { column: String, sources: String },
    #[error("listing the checkpoints of {id} for `revisions: \"{pattern}\"`")]
    RevisionList {
        id: String,
        pattern: String,
        #[source]
        source: HubError,
    },
    #[error("checkpoint series of {id}")]
    Series {
        id: String,
        #[source]
        source: crate::study::series::SeriesError,
    },
    #[error("two models are named `{name}` once the revision patterns are expanded; give each series a unique `name`")]
    DuplicateModel { name: String },
    /// `features.memory` cannot hold even one layer of a model.
    #[error(transparent)]
    Budget(#[from] crate::features::budget::BudgetError),
    #[error("shards of the study")]
    Shard(#[from] shard::ShardError),
    #[error("writing the report in {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("probe set `{probe}`")]
    ProbeSet {
        probe: String,
        #[source]
        source: Box<RunError>,
    },
}

/// Where progress lines go (stderr in the CLI, nowhere in tests), and,
/// for a live display, where each model's pass stands.
pub trait Progress {
    fn line(&mut self, msg: &str);
    /// A model's pass moved on: a phase began or a batch finished.
    fn model(&mut self, _status: &ModelStatus) {}
}

/// What a model's pass is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Finding and hashing the model's files.
    Hashing,
    /// Loading weights and tokenizer, tokenizing the corpus.
    Loading,
    /// The forward pass with the estimator on each layer.
    Running,
    /// Finished (features computed or read from the cache).
    Done,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Hashing => "hashing",
            Phase::Loading => "loading",
            Phase::Running => "forward + estimating",
            Phase::Done => "done",
        }
    }
}

/// Where one model's pass stands, for [`Progress::model`].
#[derive(Clone, Copy, Debug)]
pub struct ModelStatus<'a> {
    pub name: &'a str,
    /// This model's place in the study (0-based) and the number of models.
    pub index: usize,
    pub models: usize,
    pub phase: Phase,
    /// Documents and tokens done so far (zero before the forward pass).
    pub pass: crate::features::PassProgress,
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
/// How a run may reach the network.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Use only cached hub files and shipped snapshots (also `HF_HUB_OFFLINE=1`).
    pub offline: bool,
    /// The feature cache folder; `None` computes everything afresh.
    pub feature_cache: Option<PathBuf>,
    /// Fit features read from this table (an earlier run's `features.csv`
    /// or `.parquet`) instead of probing the models.
    pub features_from: Option<PathBuf>,
    /// Build the report from the shard records and cache entries that
    /// `lossy shard` wrote to `feature_cache` ([`shard`]), running no model.
    pub from_shards: bool,
}

pub fn run(
    study: &Study,
    output: &Path,
    options: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunError::Io { path, source }
    };
    let staging = report::Staging::new(output)?;
    let dir = staging.dir.clone();

    let network = Network::new(options);
    let expanded = expand_revisions(study, &network, progress)?;
    let study = &expanded;
    let feats = features_stage::features(study, options, &network, progress)?;
    let (model_table, layers, records, estimators) =
        (feats.models, feats.layers, feats.records, feats.estimators);

    let mut files = Vec::new();
    for (table, stem) in [(&model_table, "features"), (&layers, "layers")] {
        if table.columns.is_empty() {
            continue;
        }
        table.write_csv(&dir.join(format!("{stem}.csv")))?;
        table.write_parquet(&dir.join(format!("{stem}.parquet")))?;
        files.extend([format!("{stem}.csv"), format!("{stem}.parquet")]);
    }

    let names: Vec<String> = model_table.strs("model").unwrap_or_default().to_vec();
    let scores = match &study.scores {
        Some(settings) => Some(load_scores(
            study, &names, &records, settings, &network, progress,
        )?),
        None => None,
    };

    let fit = match (&study.fit, &scores) {
        (Some(settings), Some(scores)) => {
            let result = run_fit(
                settings,
                &names,
                &model_table,
                scores,
                &study.model_feature_names(),
            )?;
            progress.line(&format!(
                "fit: {} ~ {}: held-out R² = {:.3} (baseline {:.3}), MAE = {:.4}",
                settings.target,
                settings.features.join(" + "),
                result.metrics.r2,
                result.baseline.r2,
                result.metrics.mae
            ));
            files.extend(write_fit_tables(&result, &model_table, &dir)?);
            crate::io::atomic::write(
                &dir.join("fit.json"),
                &serde_json::to_vec_pretty(&result).expect("fit serialises"),
            )
            .map_err(io(&dir))?;
            files.push("fit.json".into());
            Some(result)
        }
        _ => None,
    };

    let figure_data = report::FigureData {
        study,
        models: &model_table,
        layers: &layers,
        scores: scores.as_ref(),
        fit: fit.as_ref(),
    };
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
        corpus: feats.corpus,
        probes: feats.probes,
        features_from: feats.from,
        estimators: estimators.iter().map(Estimator::record).collect(),
        seeds: Seeds {
            reference_points: study.features.estimator.seed,
            null_labels: study.features.null_seed(),
        },
        scores: scores
            .as_ref()
            .map(|s| s.sources.clone())
            .unwrap_or_default(),
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
    let report_dir = staging.commit()?;
    Ok(RunSummary {
        report_dir,
        manifest,
        fit,
    })
}

/// The hub client, made on first use (a study of local models and files
/// never touches the network or the environment's hub settings).
pub(crate) struct Network {
    offline: bool,
    hub: std::cell::OnceCell<Hub>,
}

impl Network {
    fn new(options: &RunOptions) -> Self {
        Self {
            offline: options.offline,
            hub: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn hub(&self) -> Result<&Hub, HubError> {
        if let Some(h) = self.hub.get() {
            return Ok(h);
        }
        let hub = Hub::from_env(self.offline)?;
        Ok(self.hub.get_or_init(|| hub))
    }
}

/// The study with every hub revision pattern (`revisions: "step*"`)
/// expanded from the repository's branches and tags; a clone when it has none.
pub(crate) fn expand_revisions(
    study: &Study,
    network: &Network,
    progress: &mut dyn Progress,
) -> Result<Study, RunError> {
    if study.revision_patterns.is_empty() {
        return Ok(study.clone());
    }
    let mut series = Vec::new();
    for p in &study.revision_patterns {
        let err = |source| RunError::RevisionList {
            id: p.id.clone(),
            pattern: p.pattern.clone(),
            source,
        };
        let hub = network.hub().map_err(err)?;
        let refs = hub.refs(&crate::hub::RepoRef::model(&p.id)).map_err(err)?;
        let models = crate::study::series::expand_revisions(p, &refs).map_err(|source| {
            RunError::Series {
                id: p.id.clone(),
                source,
            }
        })?;
        progress.line(&format!(
            "{}: `revisions: \"{}\"` matched {} of {} branches and tags",
            p.id,
            p.pattern,
            models.len(),
            refs.len()
        ));
        series.push(models);
    }
    let out = study.with_series(series);
    for (i, m) in out.models.iter().enumerate() {
        if out.models[..i].iter().any(|o| o.name == m.name) {
            return Err(RunError::DuplicateModel {
                name: m.name.clone(),
            });
        }
    }
    Ok(out)
}

/// The corpus, fetching a hub dataset's shards first when it is one.
pub(crate) fn load_corpus(
    study: &Study,
    network: &Network,
    progress: &mut dyn Progress,
) -> Result<Corpus, RunError> {
    let hub = if study.corpus.dataset.is_some() {
        Some(network.hub()?)
    } else {
        None
    };
    let corpus = Corpus::fetch_and_load(&study.corpus, hub)?;
    let from = match &corpus.dataset {
        Some(d) => format!(
            " from {} {}/{} at {} ({} shard(s))",
            d.source.id,
            d.source.config,
            d.source.split,
            &d.sha[..12],
            d.files.len()
        ),
        None => String::new(),
    };
    progress.line(&format!(
        "corpus: {} documents{from} (sha256 {})",
        corpus.documents.len(),
        &corpus.sha256[..12]
    ));
    Ok(corpus)
}

/// Loads every score source, reaching the hub only if a source needs it.
fn load_scores(
    study: &Study,
    names: &[String],
    records: &[ModelRecord],
    settings: &ScoreSettings,
    network: &Network,
    progress: &mut dyn Progress,
) -> Result<Scores, RunError> {
    let needs_hub = settings.sources.iter().any(
        |s| matches!(&s.kind, SourceKind::Leaderboard(l) if l.snapshot != SnapshotUse::Always),
    );
    let hub = if needs_hub {
        Some(network.hub()?)
    } else {
        None
    };
    // The table's models, with the hub id, revision and commit the study and the run know for them.
    let keys: Vec<ModelKey> = names
        .iter()
        .map(|name| {
            let entry = study.models.iter().find(|m| &m.name == name);
            let commit = records
                .iter()
                .find(|r| &r.name == name)
                .and_then(|r| r.commit.clone());
            let path = entry
                .and_then(|m| m.path.as_ref())
                .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
            ModelKey {
                name: name.clone(),
                id: entry.and_then(|m| m.id.clone()),
                revision: entry.and_then(|m| m.revision.clone()),
                sha: commit,
                path,
            }
        })
        .collect();
    let mut scores = Scores::load(settings, &keys, hub)?;
    let unreleased: Vec<String> = study
        .models
        .iter()
        .filter(|m| m.unreleased)
        .map(|m| m.name.clone())
        .collect();
    scores.withhold(&unreleased);
    for s in &scores.sources {
        if let crate::scores::Provenance::Leaderboard(
            crate::scores::leaderboard::Origin::Snapshot { file, reason, .. },
        ) = &s.provenance
        {
            progress.line(&format!(
                "scores: using the shipped leaderboard snapshot {file}: {reason}"
            ));
        }
        if !s.unmatched_models.is_empty() {
            progress.line(&format!(
                "scores: {} has no row for {}",
                s.source,
                s.unmatched_models.join(", ")
            ));
        }
        for (model, n) in &s.duplicates {
            progress.line(&format!("scores: {} has {n} rows for {model}; combined as the source's `duplicates` policy says", s.source));
        }
    }
    Ok(scores)
}

/// The study's fit over the model table and the scores.
/// Models the study marks `unreleased` have no scores here (see
/// [`Scores::withhold`]); their withheld target checks the ranking.
fn run_fit(
    settings: &fit::FitSettings,
    names: &[String],
    models: &Table,
    scores: &Scores,
    feature_names: &[String],
) -> Result<FitResult, RunError> {
    let err = |source| RunError::Fit {
        target: settings.target.clone(),
        source,
    };
    let y = scores
        .column_for(&settings.target, names)
        .ok_or_else(|| RunError::MissingScore {
            column: settings.target.clone(),
            sources: scores
                .sources
                .iter()
                .map(|s| s.source.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let withheld = scores
        .withheld_for(&settings.target, names)
        .unwrap_or_else(|| vec![f64::NAN; names.len()]);
    let column = |name: &str| {
        models
            .f64s(name)
            .unwrap_or_else(|| vec![f64::NAN; names.len()])
    };
    let cols: Vec<Vec<f64>> = settings.features.iter().map(|f| column(f)).collect();
    let x: Vec<Vec<f64>> = (0..names.len())
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect();
    let families = models.strs("family").unwrap_or_default().to_vec();
    let columns: Vec<(String, Vec<f64>)> = feature_names
        .iter()
        .map(|n| (n.clone(), column(n)))
        .collect();
    let log_params = column("log_params");
    let hold_out = match &settings.hold_out {
        Some(h) => Some(
            models
                .f64s(&h.column)
                .or_else(|| scores.column(&h.column).map(<[f64]>::to_vec))
                .ok_or_else(|| RunError::MissingScore {
                    column: h.column.clone(),
                    sources: "the feature table or the scores".into(),
                })?,
        ),
        None => None,
    };
    let lookup = |name: &str| {
        models
            .f64s(name)
            .or_else(|| scores.column_for(name, names))
            .ok_or_else(|| RunError::MissingScore {
                column: name.to_string(),
                sources: "the feature table or the scores".into(),
            })
    };
    let baselines = fit_baselines(settings, models, &x, &y, &lookup)?;
    let control = match &settings.control {
        Some(c) => Some(c.iter().map(|n| lookup(n)).collect::<Result<Vec<_>, _>>()?),
        None => None,
    };
    let input = fit::FitInput {
        baselines: &baselines,
        control: control.as_deref(),
        names,
        families: &families,
        x: &x,
        y: &y,
        columns: &columns,
        log_params: &log_params,
        hold_out: hold_out.as_deref(),
        withheld: Some(&withheld),
    };
    fit::fit_study(settings, &input).map_err(err)
}

/// The baseline columns of the fit, per model: `fit.baselines` as given,
/// else each of [`crate::features::DEFAULT_BASELINES`] that every model
/// with a score and finite features has, and that varies among them.
fn fit_baselines(
    settings: &fit::FitSettings,
    models: &Table,
    x: &[Vec<f64>],
    y: &[f64],
    lookup: impl Fn(&str) -> Result<Vec<f64>, RunError>,
) -> Result<Vec<(String, Vec<f64>)>, RunError> {
    if let Some(list) = &settings.baselines {
        return list.iter().map(|n| Ok((n.clone(), lookup(n)?))).collect();
    }
    let scored: Vec<usize> = (0..y.len())
        .filter(|&i| y[i].is_finite() && x[i].iter().all(|v| v.is_finite()))
        .collect();
    Ok(crate::features::DEFAULT_BASELINES
        .iter()
        .filter(|n| !settings.features.iter().any(|f| f == *n))
        .filter_map(|&n| {
            let v = models.f64s(n)?;
            let s: Vec<f64> = scored.iter().map(|&i| v[i]).collect();
            let usable = !s.is_empty()
                && s.iter().all(|x| x.is_finite())
                && s.iter().any(|&x| (x - s[0]).abs() > 1e-12);
            usable.then(|| (n.to_string(), v))
        })
        .collect())
}

/// predictions, correlations and (when some models have no score) ranking,
/// each as CSV and parquet. Returns the file names.
fn write_fit_tables(f: &FitResult, models: &Table, dir: &Path) -> Result<Vec<String>, RunError> {
    let names = models.strs("model").unwrap_or_default();
    let families = models.strs("family").unwrap_or_default();
    let family_of = |m: &String| {
        names
            .iter()
            .position(|n| n == m)
            .and_then(|i| families.get(i).cloned())
            .unwrap_or_default()
    };
    let mut t = Table::default();
    t.push("model", Values::Str(f.models.clone()))
        .push(
            "family",
            Values::Str(f.models.iter().map(family_of).collect()),
        )
        .push("actual", Values::F64(f.actual.clone()))
        .push("predicted", Values::F64(f.predicted.clone()))
        .push(
            "residual",
            Values::F64(
                f.actual
                    .iter()
                    .zip(&f.predicted)
                    .map(|(a, p)| a - p)
                    .collect(),
            ),
        );
    t.write_csv(&dir.join("predictions.csv"))?;
    t.write_parquet(&dir.join("predictions.parquet"))?;
    let mut c = Table::default();
    c.push(
        "feature",
        Values::Str(f.correlations.iter().map(|c| c.feature.clone()).collect()),
    )
    .push(
        "n",
        Values::Int(f.correlations.iter().map(|c| c.n as i64).collect()),
    )
    .push(
        "spearman",
        Values::F64(f.correlations.iter().map(|c| c.spearman).collect()),
    )
    .push(
        "p_value",
        Values::F64(f.correlations.iter().map(|c| c.p_value).collect()),
    )
    .push(
        "partial_spearman",
        Values::F64(f.correlations.iter().map(|c| c.partial_spearman).collect()),
    )
    .push(
        "partial_p_value",
        Values::F64(f.correlations.iter().map(|c| c.partial_p_value).collect()),
    )
    // Benjamini–Hochberg adjusted, over both p columns of this table.
    .push(
        "p_value_bh",
        Values::F64(f.correlations.iter().map(|c| c.p_adjusted).collect()),
    )
    .push(
        "partial_p_value_bh",
        Values::F64(
            f.correlations
                .iter()
                .map(|c| c.partial_p_adjusted)
                .collect(),
        ),
    );
    c.write_csv(&dir.join("correlations.csv"))?;
    c.write_parquet(&dir.join("correlations.parquet"))?;
    let mut out: Vec<String> = ["predictions", "correlations"]
        .iter()
        .flat_map(|s| [format!("{s}.csv"), format!("{s}.parquet")])
        .collect();
    if !f.ranking.is_empty() {
        let mut r = Table::default();
        r.push("rank", Values::Int((1..=f.ranking.len() as i64).collect()))
            .push(
                "model",
                Values::Str(f.ranking.iter().map(|r| r.model.clone()).collect()),
            )
            .push(
                "predicted",
                Values::F64(f.ranking.iter().map(|r| r.predicted).collect()),
            )
            .push(
                "lower",
                Values::F64(f.ranking.iter().map(|r| r.lower).collect()),
            )
            .push(
                "upper",
                Values::F64(f.ranking.iter().map(|r| r.upper).collect()),
            );
        if f.withheld.is_some() {
            r.push(
                "withheld",
                Values::F64(f.ranking.iter().map(|r| r.actual).collect()),
            );
        }
        r.write_csv(&dir.join("ranking.csv"))?;
        r.write_parquet(&dir.join("ranking.parquet"))?;
        out.extend(["ranking.csv".to_string(), "ranking.parquet".to_string()]);
    }
    Ok(out)
}
