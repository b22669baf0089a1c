//! Stage 0, the study: a YAML file (version 1) in, a checked [`Study`] out.
//!
//! Raw YAML → [`raw::RawStudy`] (closed sections; syntax, type and unknown-key
//! errors with line and column) → [`Study`] (defaults filled, paths made
//! absolute against the study file's folder, every problem collected). The
//! later stages take only the checked type; the resolved study is echoed into
//! every report's manifest.

mod error;
mod probes;
pub mod raw;
mod scores;
pub mod series;
mod suggest;

pub use error::{Pos, Problem, StudyError};

use crate::corpus::CorpusSettings;
use crate::features::estimator::EstimatorParams;
use crate::features::FeatureSettings;
use crate::figures::FigureSettings;
use crate::fit::params::{Coverage, Folds, ParamError, Permutations};
use crate::fit::{FitSettings, HoldOut, Validation};
use crate::models::{DeviceError, DeviceSpec, ModelEntry};
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
    /// Hub checkpoint series given by a revision pattern (`revisions:
    /// "step*"`): the pipeline lists the repository's branches and tags and
    /// inserts their models ([`Study::with_series`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revision_patterns: Vec<series::RevisionPattern>,
    /// The `preference` set and the named `probes`, in that order (absent
    /// from the manifest of a study without them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<crate::corpus::probe::ProbeSet>,
}

impl Study {
    /// The study with each revision pattern's models (in
    /// `revision_patterns` order) inserted where the pattern stood.
    pub fn with_series(&self, series: Vec<Vec<ModelEntry>>) -> Study {
        let mut out = self.clone();
        out.revision_patterns.clear();
        // from the last pattern, so earlier positions stay valid
        for (p, models) in self.revision_patterns.iter().zip(series).rev() {
            out.models.splice(p.at..p.at, models);
        }
        out
    }

    /// Model-level feature columns a fit may use: the main corpus's, the
    /// baselines' and every probe set's.
    pub fn model_feature_names(&self) -> Vec<String> {
        let mut names = self.features.model_feature_names();
        names.extend(probes::columns(&self.probes, &self.features));
        names
    }
}

/// Reads and checks a study file.
pub fn load(path: &Path) -> Result<Study, StudyError> {
    let bytes = std::fs::read(path).map_err(|source| StudyError::Read {
        path: path.into(),
        source,
    })?;
    let text =
        String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error()))?;
    let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let raw = parse(&file, &text)?;
    check(raw, &file, crate::io::hash::sha256_hex(text.as_bytes()))
}

/// A study that is not UTF-8, located at its first bad byte.
fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> StudyError {
    let good = &bytes[..e.valid_up_to()];
    let line = good.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&good[start..]).chars().count() as u64 + 1;
    StudyError::Syntax {
        path: path.into(),
        pos: Some(Pos { line, column }),
        message: format!(
            "the study file is not UTF-8 (byte 0x{:02x}); save it as UTF-8",
            bytes[e.valid_up_to()]
        ),
    }
}

/// YAML → raw types, mapping serde-saphyr's errors to located messages.
pub fn parse(path: &Path, text: &str) -> Result<RawStudy, StudyError> {
    serde_saphyr::from_str::<RawStudy>(text).map_err(|e| {
        let pos = e.location().map(Pos::from).filter(|p| p.line > 0);
        match e.without_snippet() {
            serde_saphyr::Error::SerdeUnknownField {
                field, expected, ..
            } => StudyError::UnknownKey {
                path: path.into(),
                pos,
                key: field.clone(),
                section: section_of(expected),
                suggestion: suggest::nearest(field, expected.iter().copied()).map(str::to_string),
            },
            serde_saphyr::Error::SerdeUnknownVariant {
                variant, expected, ..
            } => {
                let hint = suggest::hint(variant, expected.iter().copied());
                StudyError::Syntax {
                    path: path.into(),
                    pos,
                    message: format!(
                        "unknown value `{variant}` (expected one of: {}){hint}",
                        expected.join(", ")
                    ),
                }
            }
            serde_saphyr::Error::DuplicateMappingKey { key, .. } => StudyError::Syntax {
                path: path.into(),
                pos,
                message: match key {
                    Some(k) => format!("the key `{k}` appears twice in the same section; keep one"),
                    None => "a key appears twice in the same section; keep one".into(),
                },
            },
            inner => {
                let message = first_line(&inner.to_string());
                let (pos, message) = if message.starts_with(ZERO_COUNT) {
                    zero_count(text, pos)
                } else {
                    (pos, message)
                };
                StudyError::Syntax {
                    path: path.into(),
                    pos,
                    message,
                }
            }
        }
    })
}

/// serde's message for a 0 where a `NonZeroUsize` count was expected.
const ZERO_COUNT: &str = "invalid value: integer `0`, expected a nonzero";

/// A count that must be at least 1 is 0. serde-saphyr places the error at
/// the key (`max_tokens: 0`); the message names the key and the position
/// moves to the value, as the checks' problems do.
fn zero_count(text: &str, pos: Option<Pos>) -> (Option<Pos>, String) {
    let located = pos.and_then(|p| {
        let line = text
            .lines()
            .nth(usize::try_from(p.line).ok()?.checked_sub(1)?)?;
        let from: String = line
            .chars()
            .skip(usize::try_from(p.column).ok()?.checked_sub(1)?)
            .collect();
        let key: String = from
            .chars()
            .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
            .collect();
        let rest = from[key.len()..].trim_start().strip_prefix(':')?;
        let value_at = from.chars().count() - rest.trim_start().chars().count();
        let value = Pos {
            line: p.line,
            column: p.column + value_at as u64,
        };
        (!key.is_empty()).then_some((value, key))
    });
    match located {
        Some((value, key)) => (Some(value), format!("`{key}` must be at least 1")),
        None => (pos, "expected a whole number of 1 or more".into()),
    }
}

/// serde-saphyr's messages may carry a rendered snippet and a location
/// suffix; lossy prints its own `file:line:col:` prefix, so keep the message.
fn first_line(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or(msg).trim();
    let line = match line.rfind(" at line ") {
        Some(i) => &line[..i],
        None => line,
    };
    // The parser's type names say what it wanted in Rust's words; say it in the user's.
    match line {
        "invalid u64" | "invalid u32" | "invalid u16" | "invalid u8" | "invalid usize" => {
            "expected a whole number (0 or more)".to_string()
        }
        "invalid i64" | "invalid i32" => "expected a whole number".to_string(),
        "invalid f64" | "invalid f32" => "expected a number".to_string(),
        "invalid bool" => "expected true or false".to_string(),
        other => other.to_string(),
    }
}

/// Names the section an unknown key was found in, from the keys it allows.
fn section_of(expected: &[&str]) -> String {
    let has = |k: &str| expected.contains(&k);
    let name = if has("version") {
        "the study (top level)"
    } else if has("path") && has("family") {
        "a `models` entry"
    } else if has("chosen_field") {
        "a probe set (`preference` or a `probes` entry)"
    } else if has("max_tokens") {
        "`corpus`"
    } else if has("orders") {
        "`features`"
    } else if has("lm_eval") {
        "a `scores` source"
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
        self.problems.push(Problem {
            pos,
            message: message.into(),
        });
    }

    /// Resolves a path against the study's folder; checks it exists.
    fn existing_path(&mut self, p: &Spanned<String>, what: &str) -> PathBuf {
        let resolved = resolve(self.dir, &p.value);
        if !resolved.exists() {
            self.problem(
                Some(p.referenced.into()),
                format!(
                    "{what} `{}` does not exist (resolved to {})",
                    p.value,
                    resolved.display()
                ),
            );
        }
        resolved
    }
}

fn resolve(dir: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    };
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
    let mut c = Checker {
        dir,
        problems: Vec::new(),
    };

    if raw.version.value != VERSION {
        c.problem(
            at(&raw.version),
            format!(
                "unsupported study version {}; this lossy reads version {VERSION}",
                raw.version.value
            ),
        );
    }
    let name = match &raw.name {
        Some(n) => {
            let ok = !n.value.is_empty()
                && n.value
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
                && !n.value.starts_with('.');
            if !ok {
                c.problem(at(n), format!("study name `{}` must be letters, digits, '.', '_' or '-' (it names the report folder)", n.value));
            }
            n.value.clone()
        }
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "study".into()),
    };

    let (models, revision_patterns) = check_models(&mut c, &raw.models);
    let corpus = check_corpus(&mut c, &raw.corpus);
    let features = check_features(&mut c, &raw.features);
    let probes = probes::check_probes(&mut c, raw.preference, raw.probes);
    let scores = raw
        .scores
        .as_ref()
        .map(|s| scores::check_scores(&mut c, &s.0));
    let fit = raw.fit.as_ref().map(|f| {
        let extra = probes::columns(&probes, &features);
        // a revision pattern's models are counted once the hub has listed them
        // (and a checkpoint glob's grow as a run writes them: `watch` fits once it can)
        let grows = raw.models.value.iter().any(|m| m.checkpoints.is_some());
        let n = if revision_patterns.is_empty() && !grows {
            models.len()
        } else {
            usize::MAX
        };
        check_fit(&mut c, f, scores.as_ref(), &features, &extra, n)
    });
    let figures = check_figures(&mut c, &raw.figures);

    if !c.problems.is_empty() {
        return Err(StudyError::Invalid {
            path: file.into(),
            problems: c.problems,
        });
    }
    Ok(Study {
        version: raw.version.value,
        name,
        description: raw.description,
        file: file.into(),
        file_sha256,
        models,
        corpus,
        features,
        scores,
        fit,
        figures,
        revision_patterns,
        probes,
    })
}

fn check_models(
    c: &mut Checker,
    models: &Spanned<Vec<RawModel>>,
) -> (Vec<ModelEntry>, Vec<series::RevisionPattern>) {
    if models.value.is_empty() {
        c.problem(at(models), "`models` is empty: list at least one model");
    }
    let mut out: Vec<ModelEntry> = Vec::new();
    let mut patterns = Vec::new();
    for m in &models.value {
        let (path, first_pos) = check_model_source(c, m, at(models));
        let revisions = check_revisions(c, m);
        check_model_numbers(c, m, first_pos);
        let rule = check_step_rule(c, m);
        let template = series::Template {
            name: m.name.as_ref().map(|n| n.value.clone()),
            family: m.family.clone(),
            precision: m.precision.unwrap_or_default(),
            unreleased: m.unreleased.unwrap_or(false),
        };
        if let Some(cp) = &m.checkpoints {
            let expanded = check_checkpoints(c, m, cp, &rule, &template);
            push_unique(c, &mut out, expanded, m, first_pos);
            continue;
        }
        if let (Some(pattern), Some(id)) = (&revisions.glob, &m.id) {
            patterns.push(series::RevisionPattern {
                at: out.len(),
                id: id.value.clone(),
                pattern: pattern.clone(),
                rule,
                template,
            });
            continue;
        }
        let expanded = expand_model(m, path, revisions.list.as_deref(), &rule);
        push_unique(c, &mut out, expanded, m, first_pos);
    }
    (out, patterns)
}

/// Checks where a model comes from (a hub `id`, a local `path` or
/// `checkpoints`); returns the checked path and the position its problems
/// point at.
fn check_model_source(
    c: &mut Checker,
    m: &RawModel,
    models_pos: Option<Pos>,
) -> (Option<PathBuf>, Option<Pos>) {
    if let Some(id) = m.id.as_ref().filter(|id| !is_hub_id(&id.value)) {
        c.problem(
            at(id),
            format!("`{}` is not a hub id: expected `org/name`", id.value),
        );
    }
    let path = m.path.as_ref().map(|p| check_model_path(c, p));
    let first_pos = m
        .path
        .as_ref()
        .or(m.id.as_ref())
        .or(m.checkpoints.as_ref())
        .or(m.name.as_ref())
        .and_then(at)
        .or(models_pos);
    if path.is_none() && m.id.is_none() && m.checkpoints.is_none() {
        c.problem(
            first_pos,
            "a model needs a `path` (local folder or .gguf file), a hub `id`, or `checkpoints` (a glob or run folder)",
        );
    }
    (path, first_pos)
}

/// A model entry's hub revisions: a list of names, or one glob over the
/// repository's refs (expanded once the hub has listed them).
struct Revisions {
    list: Option<Vec<String>>,
    glob: Option<String>,
}

/// Checks `revision` and `revisions`: not both, not with a local `path`,
/// never empty, each a plain ref name, and only with a hub `id`.
fn check_revisions(c: &mut Checker, m: &RawModel) -> Revisions {
    if let (Some(r), Some(_)) = (&m.revisions, &m.revision) {
        c.problem(at(r), "give `revision` or `revisions`, not both");
    }
    if let (Some(r), Some(_)) = (&m.revisions, &m.path) {
        c.problem(at(r), "`revisions` fetches a checkpoint series from the hub; it cannot go with a local `path`");
    }
    let list = m.revisions.as_ref().map(|r| match &r.value {
        RawRevisions::List(v) => v.clone(),
        RawRevisions::Pattern(p) if series::is_glob(p) => vec![],
        RawRevisions::Pattern(p) => vec![p.clone()],
    });
    let glob = m.revisions.as_ref().and_then(|r| match &r.value {
        RawRevisions::Pattern(p) if series::is_glob(p) => Some(p.clone()),
        _ => None,
    });
    if let Some(r) = m
        .revisions
        .as_ref()
        .filter(|_| glob.is_none() && list.as_ref().is_some_and(|v| v.is_empty()))
    {
        c.problem(
            at(r),
            "`revisions` is empty: list the checkpoints, e.g. [step1000, step143000], or give a pattern such as \"step*\"",
        );
    }
    if let Some(r) = &m.revision {
        check_revision(c, at(r), &r.value);
    }
    if let (Some(r), Some(list)) = (&m.revisions, &list) {
        for rev in list {
            check_revision(c, at(r), rev);
        }
    }
    if m.id.is_none() && (m.revision.is_some() || m.revisions.is_some()) {
        c.problem(
            m.revision
                .as_ref()
                .and_then(at)
                .or(m.revisions.as_ref().and_then(at)),
            "`revision` and `revisions` need the model's hub `id`",
        );
    }
    Revisions { list, glob }
}

/// Checks a model's `step` and `tokens`.
fn check_model_numbers(c: &mut Checker, m: &RawModel, first_pos: Option<Pos>) {
    if let Some(step) = m.step.filter(|s| !s.is_finite()) {
        c.problem(
            first_pos,
            format!("`step` must be a finite number, not {step}"),
        );
    }
    if let Some(t) = m.tokens.filter(|t| !(t.is_finite() && *t >= 0.0)) {
        c.problem(
            first_pos,
            format!("`tokens` (training tokens seen) must be a finite number ≥ 0, not {t}"),
        );
    }
    if let (Some(r), Some(_)) = (&m.revisions, m.step) {
        c.problem(at(r), "`step` gives one model's position; a `revisions` series takes each step from its revision name");
    }
}

/// A model's name when it has none: its file stem or folder name, else the
/// last part of its hub id.
fn base_name(m: &RawModel, path: Option<&Path>) -> String {
    match (&m.name, path, &m.id) {
        (Some(n), _, _) => n.value.clone(),
        (None, Some(p), _) => {
            let file = if p.is_file() {
                p.file_stem()
            } else {
                p.file_name()
            };
            file.map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }
        (None, None, Some(id)) => id.value.rsplit('/').next().unwrap_or_default().to_string(),
        (None, None, None) => String::new(),
    }
}

/// A model entry as models: one per listed revision (`name@revision`, its
/// step from the revision's name), else the one model.
fn expand_model(
    m: &RawModel,
    path: Option<PathBuf>,
    revisions: Option<&[String]>,
    rule: &series::StepRule,
) -> Vec<ModelEntry> {
    let base = base_name(m, path.as_deref());
    let entry = |name: String,
                 revision: Option<String>,
                 step: Option<f64>,
                 family: Option<String>| ModelEntry {
        name,
        path: path.clone(),
        family,
        precision: m.precision.unwrap_or_default(),
        id: m.id.as_ref().map(|i| i.value.clone()),
        revision,
        step,
        train_tokens: m.tokens,
        unreleased: m.unreleased.unwrap_or(false),
        root: None,
    };
    match (revisions, &m.revision) {
        (Some(revs), _) => revs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let step = match &rule.step_regex {
                    Some(_) => rule.step(r),
                    None => step_of(r),
                };
                entry(
                    format!("{base}@{r}"),
                    Some(r.clone()),
                    Some(step.unwrap_or(i as f64)),
                    m.family.clone().or_else(|| Some(base.clone())),
                )
            })
            .collect(),
        (None, Some(r)) if m.name.is_none() && path.is_none() && r.value != "main" => {
            vec![entry(
                format!("{base}@{}", r.value),
                Some(r.value.clone()),
                m.step,
                m.family.clone(),
            )]
        }
        (None, r) => vec![entry(
            base,
            r.as_ref().map(|r| r.value.clone()),
            m.step,
            m.family.clone(),
        )],
    }
}

/// Appends `expanded`, reporting a name already taken.
fn push_unique(
    c: &mut Checker,
    out: &mut Vec<ModelEntry>,
    expanded: Vec<ModelEntry>,
    m: &RawModel,
    first_pos: Option<Pos>,
) {
    for e in expanded {
        if out.iter().any(|o| o.name == e.name) {
            c.problem(
                m.name.as_ref().and_then(at).or(first_pos),
                format!(
                    "two models are named `{}`; give each a unique `name`",
                    e.name
                ),
            );
        }
        out.push(e);
    }
}

/// The `step_regex` of a model entry (only for series), compiled.
fn check_step_rule(c: &mut Checker, m: &RawModel) -> series::StepRule {
    let Some(re) = &m.step_regex else {
        return series::StepRule::new(None).expect("the default rule");
    };
    if m.checkpoints.is_none() && m.revisions.is_none() {
        c.problem(
            at(re),
            "`step_regex` reads the steps of a series: it needs `checkpoints` or `revisions`",
        );
    }
    series::StepRule::new(Some(&re.value)).unwrap_or_else(|msg| {
        c.problem(at(re), msg);
        series::StepRule::new(None).expect("the default rule")
    })
}

/// A local checkpoint series: the glob or run folder expanded now.
fn check_checkpoints(
    c: &mut Checker,
    m: &RawModel,
    cp: &Spanned<String>,
    rule: &series::StepRule,
    template: &series::Template,
) -> Vec<ModelEntry> {
    let clash = [
        (m.path.is_some(), "path"),
        (m.revision.is_some(), "revision"),
        (m.revisions.is_some(), "revisions"),
        (m.step.is_some(), "step"),
    ];
    for (_, key) in clash.iter().filter(|(present, _)| *present) {
        c.problem(
            at(cp),
            format!("`checkpoints` lists a series on disk; it cannot go with `{key}`"),
        );
    }
    let resolved = resolve(c.dir, &cp.value);
    if !series::is_glob(&cp.value) && !resolved.is_dir() {
        c.problem(
            at(cp),
            format!(
                "checkpoint run folder `{}` does not exist (resolved to {}); give a folder or a glob such as runs/exp1/checkpoint-*",
                cp.value,
                resolved.display()
            ),
        );
        return vec![];
    }
    match series::expand_local(&resolved, &cp.value, rule, template) {
        Ok(models) => models,
        Err(e) => {
            c.problem(at(cp), error_chain(&e));
            vec![]
        }
    }
}

/// An error and its causes on one line (a study problem is one line).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(s) = cause {
        msg.push_str(&format!(": {s}"));
        cause = s.source();
    }
    msg
}

/// The training step a checkpoint revision names: `step1000` → 1000,
/// `stage1-step5000-tokens21B` → 5000.
fn step_of(revision: &str) -> Option<f64> {
    let at = revision.find("step")? + 4;
    let digits: String = revision[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Checks a local model path: an HF-layout folder or a `.gguf` file.
fn check_model_path(c: &mut Checker, p: &Spanned<String>) -> PathBuf {
    let path = c.existing_path(p, "model folder");
    if path.is_file() && !crate::models::gguf::is_gguf(&path) {
        let msg = "a model `path` must be a Hugging Face-layout folder (config.json, model.safetensors, tokenizer.json) or a .gguf file";
        c.problem(at(p), format!("`{}`: {msg}", p.value));
    } else if path.is_dir() {
        for needed in ["config.json", "tokenizer.json"] {
            if !path.join(needed).is_file() {
                c.problem(at(p), format!("model folder `{}` has no {needed}", p.value));
            }
        }
    }
    path
}

/// `org/name`, each part letters, digits, `-`, `_` or `.`.
/// A hub revision must be a plain ref name: it becomes a path in the cache.
fn check_revision(c: &mut Checker, pos: Option<Pos>, revision: &str) {
    if let Err(e) = crate::hub::names::check_revision(revision) {
        c.problem(pos, e.to_string());
    }
}

/// Largest `features.bins` (reference points m).
const MAX_BINS: usize = 1 << 16;
/// Largest `features.batch_size`.
const MAX_BATCH: usize = 4096;
/// Largest `features.bootstrap` (replicates).
const MAX_BOOTSTRAP: usize = 10_000;

fn is_hub_id(id: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !p.starts_with('.')
    };
    matches!(id.split_once('/'), Some((org, name)) if ok(org) && ok(name))
}

fn check_figures(c: &mut Checker, raw: &RawFigures) -> FigureSettings {
    let d = FigureSettings::default();
    let formats = match &raw.formats {
        Some(f) => {
            if f.value.is_empty() {
                c.problem(
                    at(f),
                    "`figures.formats` is empty: list svg, png and/or pdf (or remove the key)",
                );
            }
            f.value.clone()
        }
        None => d.formats,
    };
    if let Some(i) = raw.include.as_ref().filter(|i| i.value.is_empty()) {
        c.problem(at(i), "`figures.include` is empty: name the figures to draw, or remove the key to draw all that apply");
    }
    if let Some(dpi) = raw
        .dpi
        .as_ref()
        .filter(|v| !(v.value >= 30.0 && v.value <= 1200.0))
    {
        c.problem(
            at(dpi),
            format!(
                "`figures.dpi` must be between 30 and 1200, not {}",
                dpi.value
            ),
        );
    }
    FigureSettings {
        include: raw.include.as_ref().map(|i| i.value.clone()),
        formats,
        width: raw.width.unwrap_or(d.width),
        dpi: raw.dpi.as_ref().map_or(d.dpi, |v| v.value),
        style: raw.style.unwrap_or(d.style),
    }
}

/// A hub dataset's id checked and its defaults filled.
fn resolve_dataset(c: &mut Checker, d: &Spanned<RawDataset>) -> crate::corpus::DatasetSource {
    if !is_hub_id(&d.value.id.value) {
        c.problem(
            at(&d.value.id),
            format!(
                "`{}` is not a hub dataset id: expected `org/name`",
                d.value.id.value
            ),
        );
    }
    if let Some(r) = &d.value.revision {
        check_revision(c, at(d), r);
    }
    crate::corpus::DatasetSource {
        id: d.value.id.value.clone(),
        config: d.value.config.clone().unwrap_or_else(|| "default".into()),
        split: d.value.split.clone().unwrap_or_else(|| "train".into()),
        revision: d
            .value
            .revision
            .clone()
            .unwrap_or_else(|| crate::corpus::dataset::PARQUET_REVISION.into()),
    }
}

fn check_corpus(c: &mut Checker, raw: &RawCorpus) -> CorpusSettings {
    let mut spans: Vec<&Spanned<String>> = raw.path.iter().collect();
    spans.extend(raw.paths.iter().flatten());
    let dataset = raw.dataset.as_ref().map(|d| {
        if let Some(p) = spans.first() {
            c.problem(
                at(p),
                "give the corpus as local files (`path`/`paths`) or as a hub `dataset`, not both",
            );
        }
        resolve_dataset(c, d)
    });
    if spans.is_empty() && dataset.is_none() {
        c.problem(None, "`corpus` needs `path` (or `paths`): the text files to probe the models with, or a hub `dataset`");
    }
    let mut paths = Vec::new();
    for p in spans {
        let path = c.existing_path(p, "corpus file");
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if !["txt", "jsonl", "parquet"].contains(&ext.as_str()) {
            c.problem(
                at(p),
                format!("corpus file `{}` must be .txt, .jsonl or .parquet", p.value),
            );
        }
        paths.push(path);
    }
    if let (Some(s), None) = (&raw.sample_seed, &raw.max_documents) {
        c.problem(
            at(s),
            "`sample_seed` draws `max_documents` documents at random: set `max_documents` too",
        );
    }
    let defaults = CorpusSettings::default();
    CorpusSettings {
        paths,
        dataset,
        text_field: raw.text_field.clone().unwrap_or(defaults.text_field),
        max_documents: raw.max_documents.as_ref().map(|s| s.value.get()),
        sample_seed: raw.sample_seed.as_ref().map(|s| s.value),
        max_tokens: raw
            .max_tokens
            .as_ref()
            .map_or(defaults.max_tokens, |s| s.value.get()),
        add_special_tokens: raw
            .add_special_tokens
            .unwrap_or(defaults.add_special_tokens),
    }
}

fn check_features(c: &mut Checker, raw: &RawFeatures) -> FeatureSettings {
    let d = FeatureSettings::default();
    let orders = match &raw.orders {
        Some(o) => {
            if o.value.is_empty() || o.value.iter().any(|&n| !(1..=4).contains(&n)) {
                c.problem(
                    at(o),
                    "`orders` must list n-gram orders between 1 and 4, e.g. [1, 2]",
                );
            }
            let mut v = o.value.clone();
            v.sort_unstable();
            v.dedup();
            v
        }
        None => d.orders.clone(),
    };
    check_feature_bounds(c, raw);
    let reference_points = raw
        .reference_points
        .as_ref()
        .map(|p| c.existing_path(p, "reference points file"));
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
        batch_size: raw
            .batch_size
            .as_ref()
            .map_or(d.batch_size, |b| b.value.get()),
        hidden_states: raw.hidden_states.unwrap_or(d.hidden_states),
        device: check_device(c, raw.device.as_ref()),
        bootstrap: raw.bootstrap.unwrap_or(d.bootstrap),
        bootstrap_seed: raw
            .bootstrap_seed
            .unwrap_or(raw.seed.unwrap_or(d.bootstrap_seed)),
        bootstrap_blocks: raw.bootstrap_blocks.as_ref().map(|b| b.value),
        memory: check_memory(c, raw.memory.as_ref()),
    }
}

/// The least and most of `bins`, `bootstrap_blocks`, `bootstrap` and
/// `batch_size`.
fn check_feature_bounds(c: &mut Checker, raw: &RawFeatures) {
    if let Some(b) = raw.bins.as_ref().filter(|b| b.value < 2) {
        c.problem(
            at(b),
            "`bins` (the number of reference points m) must be at least 2",
        );
    }
    if let Some(b) = raw.bootstrap_blocks.as_ref().filter(|b| b.value < 2) {
        c.problem(
            at(b),
            "`bootstrap_blocks` must be at least 2 (documents are resampled in that many blocks)",
        );
    }
    // Upper bounds: beyond them a run would abort allocating (m × d
    // reference points, replicates × layers estimates, batch × tokens × d
    // activations) rather than fail with a message.
    if let Some(b) = raw.bins.as_ref().filter(|b| b.value > MAX_BINS) {
        c.problem(
            at(b),
            format!(
                "`bins` is {}; at most {MAX_BINS} reference points are supported",
                b.value
            ),
        );
    }
    if let Some(b) = raw.bootstrap.filter(|&b| b > MAX_BOOTSTRAP) {
        c.problem(
            None,
            format!(
                "`features.bootstrap` is {b}; at most {MAX_BOOTSTRAP} replicates are supported"
            ),
        );
    }
    if let Some(b) = raw
        .batch_size
        .as_ref()
        .filter(|b| b.value.get() > MAX_BATCH)
    {
        c.problem(
            at(b),
            format!(
                "`batch_size` is {}; at most {MAX_BATCH} sequences per batch are supported",
                b.value
            ),
        );
    }
}

/// Smallest `features.memory`: below it the value is surely a mistake
/// (a model's weights alone take more).
const MIN_MEMORY: u64 = 1 << 20;

/// `features.memory`: a size such as `16GiB` (or bytes), at least 1 MiB.
fn check_memory(c: &mut Checker, raw: Option<&Spanned<RawSize>>) -> Option<u64> {
    let raw = raw?;
    let bytes = match &raw.value {
        RawSize::Bytes(b) => Ok(*b),
        RawSize::Text(t) => crate::features::budget::parse_size(t).map_err(|e| {
            format!("`features.memory` is `{t}`, not a size ({e}); write it like `16GiB`, `512MiB` or a number of bytes")
        }),
    };
    match bytes {
        Ok(b) if b >= MIN_MEMORY => Some(b),
        Ok(b) => {
            c.problem(at(raw), format!("`features.memory` is {b} bytes; it must be at least 1MiB (write sizes like `16GiB`)"));
            None
        }
        Err(message) => {
            c.problem(at(raw), message);
            None
        }
    }
}

/// `features.device`: checked for syntax only, so a GPU study validates on a
/// machine without a GPU (a login node); `lossy run` opens it before any model.
fn check_device(c: &mut Checker, raw: Option<&Spanned<String>>) -> DeviceSpec {
    let Some(raw) = raw else {
        return DeviceSpec::Cpu;
    };
    raw.value.parse().unwrap_or_else(|e: DeviceError| {
        c.problem(at(raw), e.to_string());
        DeviceSpec::Cpu
    })
}

fn check_fit(
    c: &mut Checker,
    raw: &RawFit,
    scores: Option<&ScoreSettings>,
    features: &FeatureSettings,
    probe_columns: &[String],
    n_models: usize,
) -> FitSettings {
    let Some(scores) = scores else {
        c.problem(
            at(&raw.target),
            "`fit` needs a `scores` section to take its target from",
        );
        return FitSettings::new(&raw.target.value, vec![]);
    };
    let columns = scores::available_columns(scores);
    check_fit_target(c, &raw.target, &columns);
    let mut known = features.model_feature_names();
    known.extend(probe_columns.iter().cloned());
    let chosen = check_fit_features(c, raw.features.as_ref(), &known);
    if n_models < chosen.len() + 2 {
        c.problem(at(&raw.target), format!(
            "a fit on {} feature(s) with leave-one-out validation needs at least {} models; the study has {n_models}",
            chosen.len(),
            chosen.len() + 2
        ));
    }
    let mut s = FitSettings::new(&raw.target.value, chosen);
    s.method = raw.method.unwrap_or(s.method);
    s.validation = raw.validation.unwrap_or(s.validation);
    s.folds = fit_param(c, raw.folds.as_ref(), Folds::new, s.folds);
    s.seed = raw.seed.unwrap_or(s.seed);
    s.interval = fit_param(c, raw.interval.as_ref(), Coverage::new, s.interval);
    s.permutations = fit_param(
        c,
        raw.permutations.as_ref(),
        Permutations::new,
        s.permutations,
    );
    s.higher_is_better = raw.higher_is_better.unwrap_or(s.higher_is_better);
    // Baselines, covariates and the hold-out column: a model-table or score column.
    let mut valid = known;
    valid.extend(columns.iter().cloned());
    for (field, list) in [("baselines", &raw.baselines), ("control", &raw.control)] {
        if let Some(list) = list {
            check_fit_columns(c, field, list, &valid);
        }
    }
    s.baselines = raw.baselines.as_ref().map(|b| b.value.clone());
    s.control = raw.control.as_ref().map(|b| b.value.clone());
    s.hold_out = check_hold_out(c, raw, s.validation, &valid);
    s
}

/// `fit.target` is one of the score `columns`.
fn check_fit_target(c: &mut Checker, target: &Spanned<String>, columns: &[String]) {
    if columns.contains(&target.value) {
        return;
    }
    let hint = suggest::hint(&target.value, columns.iter().map(String::as_str));
    let shown = if columns.len() > 30 {
        format!(
            "{} columns, e.g. {}",
            columns.len(),
            columns[..30].join(", ")
        )
    } else {
        columns.join(", ")
    };
    c.problem(
        at(target),
        format!(
            "fit target `{}` is not a score column (available: {shown}){hint}",
            target.value
        ),
    );
}

/// `fit.features`: model features the study computes (default: optimality).
fn check_fit_features(
    c: &mut Checker,
    raw: Option<&Spanned<Vec<String>>>,
    known: &[String],
) -> Vec<String> {
    let Some(f) = raw else {
        return vec!["optimality".to_string()];
    };
    for name in &f.value {
        if !known.contains(name) {
            let hint = suggest::hint(name, known.iter().map(String::as_str));
            c.problem(
                at(f),
                format!(
                    "unknown fit feature `{name}` (available: {}){hint}",
                    known.join(", ")
                ),
            );
        }
    }
    if f.value.is_empty() {
        c.problem(at(f), "`fit.features` is empty: name at least one feature");
    }
    f.value.clone()
}

/// `fit.<field>` (`baselines`, `control`) names only `valid` columns.
fn check_fit_columns(c: &mut Checker, field: &str, list: &Spanned<Vec<String>>, valid: &[String]) {
    for name in &list.value {
        if !valid.contains(name) {
            let hint = suggest::hint(name, valid.iter().map(String::as_str));
            c.problem(
                at(list),
                format!("`fit.{field}`: `{name}` is neither a model-table column nor a score column{hint}"),
            );
        }
    }
}

/// `hold_out`, given exactly when `validation: hold-out`: a `valid` column
/// and a finite threshold.
fn check_hold_out(
    c: &mut Checker,
    raw: &RawFit,
    validation: Validation,
    valid: &[String],
) -> Option<HoldOut> {
    match (&raw.hold_out, validation) {
        (Some(h), Validation::HoldOut) => {
            if !h.threshold.value.is_finite() {
                c.problem(
                    at(&h.threshold),
                    "`hold_out.threshold` must be a finite number",
                );
            }
            if !valid.contains(&h.column.value) {
                let hint = suggest::hint(&h.column.value, valid.iter().map(String::as_str));
                c.problem(
                    at(&h.column),
                    format!(
                        "hold-out column `{}` is neither a model feature nor a score column{hint}",
                        h.column.value
                    ),
                );
            }
            Some(HoldOut {
                column: h.column.value.clone(),
                threshold: h.threshold.value,
            })
        }
        (None, Validation::HoldOut) => {
            c.problem(at(&raw.target), "`validation: hold-out` needs `hold_out: {column: ..., threshold: ...}` (models at or above the threshold are held out)");
            None
        }
        (Some(h), _) => {
            c.problem(
                at(&h.column),
                "`hold_out` applies only with `validation: hold-out`",
            );
            None
        }
        (None, _) => None,
    }
}

/// A fit hyper-parameter made by its checked type (`crate::fit::params`):
/// `default` when the study does not set it, and a problem at its position
/// when the value is out of range.
fn fit_param<V: Copy, T>(
    c: &mut Checker,
    raw: Option<&Spanned<V>>,
    make: fn(V) -> Result<T, ParamError>,
    default: T,
) -> T {
    let Some(raw) = raw else { return default };
    make(raw.value).unwrap_or_else(|e| {
        c.problem(at(raw), e.to_string());
        default
    })
}

#[cfg(test)]
mod tests;
