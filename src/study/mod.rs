//! Stage 0, the study: a YAML file (version 1) in, a checked [`Study`] out.
//!
//! Raw YAML → [`raw::RawStudy`] (closed sections; syntax, type and unknown-key
//! errors with line and column) → [`Study`] (defaults filled, paths made
//! absolute against the study file's folder, every problem collected). The
//! later stages take only the checked type; the resolved study is echoed into
//! every report's manifest.

mod error;
pub mod raw;
mod suggest;

pub use error::{Pos, Problem, StudyError};

use crate::corpus::CorpusSettings;
use crate::features::estimator::EstimatorParams;
use crate::features::FeatureSettings;
use crate::figures::{FigureFormat, FigureSettings};
use crate::fit::FitSettings;
use crate::models::ModelEntry;
use crate::scores::ScoreSettings;
use raw::*;
use serde::Serialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

/// The only study format version this lossy reads.
pub const VERSION: u32 = 1;

/// A checked study: what `lossy run` executes.
#[derive(Clone, Debug, Serialize)]
pub struct Study {
    pub version: u32,
    pub name: String,
    pub description: Option<String>,
    /// The study file (absolute) and its sha256.
    pub file: PathBuf,
    pub file_sha256: String,
    pub models: Vec<ModelEntry>,
    pub corpus: CorpusSettings,
    pub features: FeatureSettings,
    pub scores: Option<ScoreSettings>,
    pub fit: Option<FitSettings>,
    pub figures: FigureSettings,
}

/// Reads and checks a study file.
pub fn load(path: &Path) -> Result<Study, StudyError> {
    let text = std::fs::read_to_string(path).map_err(|source| StudyError::Read { path: path.into(), source })?;
    let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let raw = parse(&file, &text)?;
    check(raw, &file, crate::io::hash::sha256_hex(text.as_bytes()))
}

/// YAML → raw types, mapping serde-saphyr's errors to located messages.
pub fn parse(path: &Path, text: &str) -> Result<RawStudy, StudyError> {
    serde_saphyr::from_str::<RawStudy>(text).map_err(|e| {
        let pos = e.location().map(Pos::from).filter(|p| p.line > 0);
        match e.without_snippet() {
            serde_saphyr::Error::SerdeUnknownField { field, expected, .. } => StudyError::UnknownKey {
                path: path.into(),
                pos,
                key: field.clone(),
                section: section_of(expected),
                suggestion: suggest::nearest(field, expected.iter().copied()).map(str::to_string),
            },
            serde_saphyr::Error::SerdeUnknownVariant { variant, expected, .. } => {
                let hint = match suggest::nearest(variant, expected.iter().copied()) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => String::new(),
                };
                StudyError::Syntax {
                    path: path.into(),
                    pos,
                    message: format!("unknown value `{variant}` (expected one of: {}){hint}", expected.join(", ")),
                }
            }
            inner => StudyError::Syntax { path: path.into(), pos, message: first_line(&inner.to_string()) },
        }
    })
}

/// serde-saphyr's messages may carry a rendered snippet and a location
/// suffix; lossy prints its own `file:line:col:` prefix, so keep the message.
fn first_line(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or(msg).trim();
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// Names the section an unknown key was found in, from the keys it allows.
fn section_of(expected: &[&str]) -> String {
    let has = |k: &str| expected.contains(&k);
    let name = if has("version") {
        "the study (top level)"
    } else if has("path") && has("family") {
        "a `models` entry"
    } else if has("max_tokens") {
        "`corpus`"
    } else if has("orders") {
        "`features`"
    } else if has("model_column") {
        "`scores`"
    } else if has("target") {
        "`fit`"
    } else if has("formats") {
        "`figures`"
    } else {
        "this section"
    };
    format!("{name} (valid keys: {})", expected.join(", "))
}

/// Collects problems with their positions.
struct Checker<'a> {
    dir: &'a Path,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, pos: Option<Pos>, message: impl Into<String>) {
        self.problems.push(Problem { pos, message: message.into() });
    }

    /// Resolves a path against the study's folder; checks it exists.
    fn existing_path(&mut self, p: &Spanned<String>, what: &str) -> PathBuf {
        let resolved = resolve(self.dir, &p.value);
        if !resolved.exists() {
            self.problem(Some(p.referenced.into()), format!("{what} `{}` does not exist (resolved to {})", p.value, resolved.display()));
        }
        resolved
    }
}

fn resolve(dir: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    let joined = if p.is_absolute() { p.to_path_buf() } else { dir.join(p) };
    normalize(&joined)
}

/// Removes `.` and `..` components without touching the filesystem.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn at<T>(s: &Spanned<T>) -> Option<Pos> {
    Some(s.referenced.into())
}

/// Raw → checked, collecting every problem.
pub fn check(raw: RawStudy, file: &Path, file_sha256: String) -> Result<Study, StudyError> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut c = Checker { dir, problems: Vec::new() };

    if raw.version.value != VERSION {
        c.problem(at(&raw.version), format!("unsupported study version {}; this lossy reads version {VERSION}", raw.version.value));
    }
    let name = match &raw.name {
        Some(n) => {
            let ok = !n.value.is_empty() && n.value.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch)) && !n.value.starts_with('.');
            if !ok {
                c.problem(at(n), format!("study name `{}` must be letters, digits, '.', '_' or '-' (it names the report folder)", n.value));
            }
            n.value.clone()
        }
        None => file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "study".into()),
    };

    let models = check_models(&mut c, &raw.models);
    let corpus = check_corpus(&mut c, &raw.corpus);
    let features = check_features(&mut c, &raw.features);
    let scores = raw.scores.as_ref().map(|s| check_scores(&mut c, s));
    let fit = raw.fit.as_ref().map(|f| check_fit(&mut c, f, scores.as_ref(), &features, models.len()));
    let figures = check_figures(&mut c, &raw.figures);

    if !c.problems.is_empty() {
        return Err(StudyError::Invalid { path: file.into(), problems: c.problems });
    }
    Ok(Study { version: raw.version.value, name, description: raw.description, file: file.into(), file_sha256, models, corpus, features, scores, fit, figures })
}

fn check_models(c: &mut Checker, models: &Spanned<Vec<RawModel>>) -> Vec<ModelEntry> {
    if models.value.is_empty() {
        c.problem(at(models), "`models` is empty: list at least one model");
    }
    let mut out: Vec<ModelEntry> = Vec::new();
    for m in &models.value {
        let path = c.existing_path(&m.path, "model folder");
        if path.is_file() && !crate::models::gguf::is_gguf(&path) {
            let msg = "a model `path` must be a Hugging Face-layout folder (config.json, model.safetensors, tokenizer.json) or a .gguf file";
            c.problem(at(&m.path), format!("`{}`: {msg}", m.path.value));
        } else if path.is_dir() {
            for needed in ["config.json", "tokenizer.json"] {
                if !path.join(needed).is_file() {
                    c.problem(at(&m.path), format!("model folder `{}` has no {needed}", m.path.value));
                }
            }
        }
        let name = match &m.name {
            Some(n) => n.value.clone(),
            None => {
                let file = if path.is_file() { path.file_stem() } else { path.file_name() };
                file.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
            }
        };
        if out.iter().any(|e| e.name == name) {
            let pos = m.name.as_ref().map(|n| n.referenced.into()).or(at(&m.path));
            c.problem(pos, format!("two models are named `{name}`; give each a unique `name`"));
        }
        if let Some(step) = m.step.filter(|s| !s.is_finite()) {
            c.problem(at(&m.path), format!("model `{name}`: `step` must be a finite number, not {step}"));
        }
        out.push(ModelEntry { name, path, family: m.family.clone(), precision: m.precision.unwrap_or_default(), step: m.step });
    }
    out
}

fn check_figures(c: &mut Checker, raw: &RawFigures) -> FigureSettings {
    let d = FigureSettings::default();
    let formats = match &raw.formats {
        Some(f) => {
            if f.value.is_empty() {
                c.problem(at(f), "`figures.formats` is empty: list svg, png and/or pdf (or remove the key)");
            }
            f.value
                .iter()
                .map(|f| match f {
                    FigureFormatName::Svg => FigureFormat::Svg,
                    FigureFormatName::Png => FigureFormat::Png,
                    FigureFormatName::Pdf => FigureFormat::Pdf,
                })
                .collect()
        }
        None => d.formats,
    };
    if let Some(i) = raw.include.as_ref().filter(|i| i.value.is_empty()) {
        c.problem(at(i), "`figures.include` is empty: name the figures to draw, or remove the key to draw all that apply");
    }
    if let Some(dpi) = raw.dpi.as_ref().filter(|v| !(v.value >= 30.0 && v.value <= 1200.0)) {
        c.problem(at(dpi), format!("`figures.dpi` must be between 30 and 1200, not {}", dpi.value));
    }
    FigureSettings {
        include: raw.include.as_ref().map(|i| i.value.clone()),
        formats,
        width: raw.width.unwrap_or(d.width),
        dpi: raw.dpi.as_ref().map_or(d.dpi, |v| v.value),
    }
}

fn check_corpus(c: &mut Checker, raw: &RawCorpus) -> CorpusSettings {
    let mut spans: Vec<&Spanned<String>> = raw.path.iter().collect();
    spans.extend(raw.paths.iter().flatten());
    if spans.is_empty() {
        c.problem(None, "`corpus` needs `path` (or `paths`): the text files to probe the models with");
    }
    let mut paths = Vec::new();
    for p in spans {
        let path = c.existing_path(p, "corpus file");
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        if ext != "txt" && ext != "jsonl" {
            c.problem(at(p), format!("corpus file `{}` must be .txt or .jsonl", p.value));
        }
        paths.push(path);
    }
    let positive = |c: &mut Checker, v: &Option<Spanned<usize>>, key: &str| {
        if let Some(s) = v.as_ref().filter(|s| s.value == 0) {
            c.problem(at(s), format!("corpus `{key}` must be at least 1"));
        }
    };
    positive(c, &raw.max_documents, "max_documents");
    positive(c, &raw.max_tokens, "max_tokens");
    let defaults = CorpusSettings::default();
    CorpusSettings {
        paths,
        text_field: raw.text_field.clone().unwrap_or(defaults.text_field),
        max_documents: raw.max_documents.as_ref().map(|s| s.value),
        max_tokens: raw.max_tokens.as_ref().map_or(defaults.max_tokens, |s| s.value),
        add_special_tokens: raw.add_special_tokens.unwrap_or(defaults.add_special_tokens),
    }
}

fn check_features(c: &mut Checker, raw: &RawFeatures) -> FeatureSettings {
    let d = FeatureSettings::default();
    let orders = match &raw.orders {
        Some(o) => {
            if o.value.is_empty() || o.value.iter().any(|&n| !(1..=4).contains(&n)) {
                c.problem(at(o), "`orders` must list n-gram orders between 1 and 4, e.g. [1, 2]");
            }
            let mut v = o.value.clone();
            v.sort_unstable();
            v.dedup();
            v
        }
        None => d.orders.clone(),
    };
    if let Some(b) = raw.bins.as_ref().filter(|b| b.value < 2) {
        c.problem(at(b), "`bins` (the number of reference points m) must be at least 2");
    }
    if let Some(b) = raw.batch_size.as_ref().filter(|b| b.value == 0) {
        c.problem(at(b), "`batch_size` must be at least 1");
    }
    let reference_points = raw.reference_points.as_ref().map(|p| c.existing_path(p, "reference points file"));
    FeatureSettings {
        orders,
        positions: raw.positions.unwrap_or(d.positions),
        estimator: EstimatorParams {
            bins: raw.bins.as_ref().map_or(d.estimator.bins, |b| b.value),
            seed: raw.seed.unwrap_or(d.estimator.seed),
            calibration: raw.calibration.unwrap_or(d.estimator.calibration),
            reference_points,
        },
        min_count: raw.min_count.unwrap_or(d.min_count).max(1),
        null: raw.shuffled_null.unwrap_or(d.null),
        batch_size: raw.batch_size.as_ref().map_or(d.batch_size, |b| b.value),
        hidden_states: raw.hidden_states.unwrap_or(d.hidden_states),
        bootstrap: raw.bootstrap.unwrap_or(d.bootstrap),
        bootstrap_seed: raw.bootstrap_seed.unwrap_or(raw.seed.unwrap_or(d.bootstrap_seed)),
    }
}

fn check_scores(c: &mut Checker, raw: &RawScores) -> ScoreSettings {
    let csv = c.existing_path(&raw.csv, "scores file");
    let model_column = raw.model_column.as_ref().map_or_else(|| "model".to_string(), |s| s.value.clone());
    if csv.is_file() {
        match crate::scores::read_header(&csv) {
            Ok(columns) => {
                if !columns.contains(&model_column) {
                    let pos = raw.model_column.as_ref().map_or(at(&raw.csv), at);
                    let hint = suggest::nearest(&model_column, columns.iter().map(String::as_str))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    c.problem(pos, format!("scores file has no model column `{model_column}` (columns: {}){hint}", columns.join(", ")));
                }
            }
            Err(e) => c.problem(at(&raw.csv), e.to_string()),
        }
    }
    ScoreSettings { csv, model_column }
}

fn check_fit(c: &mut Checker, raw: &RawFit, scores: Option<&ScoreSettings>, features: &FeatureSettings, n_models: usize) -> FitSettings {
    let Some(scores) = scores else {
        c.problem(at(&raw.target), "`fit` needs a `scores` section to take its target from");
        return FitSettings::new(&raw.target.value, vec![]);
    };
    if let Ok(columns) = crate::scores::read_header(&scores.csv) {
        if !columns.contains(&raw.target.value) {
            let hint = suggest::nearest(&raw.target.value, columns.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            c.problem(at(&raw.target), format!("fit target `{}` is not a column of the scores file{hint}", raw.target.value));
        }
    }
    let known = features.model_feature_names();
    let chosen = match &raw.features {
        Some(f) => {
            for name in &f.value {
                if !known.contains(name) {
                    let hint = suggest::nearest(name, known.iter().map(String::as_str))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    c.problem(at(f), format!("unknown fit feature `{name}` (available: {}){hint}", known.join(", ")));
                }
            }
            if f.value.is_empty() {
                c.problem(at(f), "`fit.features` is empty: name at least one feature");
            }
            f.value.clone()
        }
        None => vec!["optimality".to_string()],
    };
    if n_models < chosen.len() + 2 {
        c.problem(at(&raw.target), format!(
            "a fit on {} feature(s) with leave-one-out validation needs at least {} models; the study has {n_models}",
            chosen.len(),
            chosen.len() + 2
        ));
    }
    if let Some(f) = raw.folds.as_ref().filter(|f| f.value < 2) {
        c.problem(at(f), "`folds` must be at least 2");
    }
    if let Some(i) = raw.interval.as_ref().filter(|i| !(i.value > 0.0 && i.value < 1.0)) {
        c.problem(at(i), "`interval` is a coverage between 0 and 1, e.g. 0.9");
    }
    let mut s = FitSettings::new(&raw.target.value, chosen);
    s.method = raw.method.unwrap_or(s.method);
    s.validation = raw.validation.unwrap_or(s.validation);
    s.folds = raw.folds.as_ref().map_or(s.folds, |f| f.value);
    s.seed = raw.seed.unwrap_or(s.seed);
    s.interval = raw.interval.as_ref().map_or(s.interval, |i| i.value);
    s.permutations = raw.permutations.unwrap_or(s.permutations);
    s.higher_is_better = raw.higher_is_better.unwrap_or(s.higher_is_better);
    s
}

#[cfg(test)]
mod tests;
