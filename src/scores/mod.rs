//! Stage 4, scores: downstream benchmark scores from several sources, joined
//! to the study's models, each column remembering where it came from.
//!
//! Sources ([`Source`]): a CSV or parquet table ([`table_source`]),
//! lm-evaluation-harness result files ([`lm_eval`]), and the Open LLM
//! Leaderboard v2 ([`leaderboard`], from the hub, with a compiled-in
//! snapshot). Rows are matched to models by hub id and revision
//! ([`matching`]); unmatched models, unused rows and duplicates are reported
//! in the manifest, never silently dropped.

pub mod leaderboard;
pub mod lm_eval;
pub mod matching;
pub mod table_source;

use crate::hub::{Hub, HubError};
use crate::table::TableError;
pub use leaderboard::{LeaderboardSource, SnapshotUse};
pub use lm_eval::LmEvalSource;
pub use matching::{Duplicates, ModelKey, RowKey, Rows};
use serde::Serialize;
use std::path::PathBuf;
pub use table_source::TableSource;

/// One checked score source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Source {
    pub kind: SourceKind,
    /// Prepended to every column name (to keep two sources' columns apart).
    pub prefix: String,
    pub duplicates: Duplicates,
    /// Model names in the source → hub ids in the study.
    pub model_aliases: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Table(TableSource),
    LmEval(LmEvalSource),
    Leaderboard(LeaderboardSource),
}

/// Checked score settings: the sources, in study order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ScoreSettings {
    pub sources: Vec<Source>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: column `{column}` is not numeric")]
    NotNumeric { path: PathBuf, column: String },
    #[error("lm-eval results {path}: {reason}")]
    LmEval { path: PathBuf, reason: String },
    #[error("Open LLM Leaderboard: {0}")]
    Leaderboard(String),
    #[error("scores from {source_name}")]
    Duplicate {
        source_name: String,
        #[source]
        error: matching::DuplicateRows,
    },
    #[error(
        "score column `{column}` comes from both {first} and {second}; give one source a `prefix`"
    )]
    ColumnClash {
        column: String,
        first: String,
        second: String,
    },
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl Source {
    /// A short description for messages and the manifest.
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::Table(t) => t.path.display().to_string(),
            SourceKind::LmEval(l) => format!("lm-eval results {}", l.path.display()),
            SourceKind::Leaderboard(l) => format!("leaderboard {}", l.dataset),
        }
    }

    /// The columns this source provides, prefixed (cheap except for lm-eval, which parses its files).
    pub fn column_names(&self) -> Result<Vec<String>, ScoreError> {
        let names = match &self.kind {
            SourceKind::Table(t) => t.column_names()?,
            SourceKind::LmEval(l) => l.column_names()?,
            SourceKind::Leaderboard(_) => {
                leaderboard::COLUMNS.iter().map(|s| s.to_string()).collect()
            }
        };
        Ok(names
            .into_iter()
            .map(|n| format!("{}{n}", self.prefix))
            .collect())
    }

    fn rows(&self, hub: Option<&Hub>) -> Result<(Rows, Provenance), ScoreError> {
        let (mut rows, provenance) = match &self.kind {
            SourceKind::Table(t) => (
                t.rows()?,
                Provenance::Files {
                    sha256: hash_files(std::slice::from_ref(&t.path))?,
                },
            ),
            SourceKind::LmEval(l) => {
                let files = l.files()?;
                (
                    l.rows()?,
                    Provenance::Files {
                        sha256: hash_files(&files)?,
                    },
                )
            }
            SourceKind::Leaderboard(l) => {
                let (rows, origin) = l.rows(hub)?;
                (rows, Provenance::Leaderboard(origin))
            }
        };
        for key in &mut rows.keys {
            if let Some((_, to)) = self
                .model_aliases
                .iter()
                .find(|(from, _)| *from == key.model)
            {
                key.model = to.clone();
            }
        }
        for (name, _) in &mut rows.columns {
            *name = format!("{}{name}", self.prefix);
        }
        Ok((rows, provenance))
    }
}

/// What a source's rows hash to, or where the leaderboard came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Provenance {
    Files { sha256: String },
    Leaderboard(leaderboard::Origin),
}

/// What the manifest says about one source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceRecord {
    pub source: String,
    pub provenance: Provenance,
    pub columns: Vec<String>,
    pub rows: usize,
    pub unmatched_models: Vec<String>,
    /// Rows naming no study model: the count, and the first 20.
    pub unused_rows: usize,
    pub unused_examples: Vec<String>,
    pub duplicates: Vec<(String, usize)>,
}

/// Scores joined to the study's models (one value per model, in study order).
#[derive(Clone, Debug)]
pub struct Scores {
    pub models: Vec<String>,
    pub columns: Vec<(String, Vec<f64>)>,
    pub sources: Vec<SourceRecord>,
    /// Scores of withheld (`unreleased`) models, moved out of `columns`
    /// (same shape; NaN for every other model).
    pub withheld: Vec<(String, Vec<f64>)>,
}

impl Scores {
    pub fn load(
        settings: &ScoreSettings,
        models: &[ModelKey],
        hub: Option<&Hub>,
    ) -> Result<Self, ScoreError> {
        let mut columns: Vec<(String, Vec<f64>)> = Vec::new();
        let mut owner: Vec<String> = Vec::new();
        let mut sources = Vec::new();
        for source in &settings.sources {
            let (rows, provenance) = source.rows(hub)?;
            let joined = matching::join(&rows, models, source.duplicates).map_err(|error| {
                ScoreError::Duplicate {
                    source_name: source.describe(),
                    error,
                }
            })?;
            for (name, values) in joined.columns {
                if let Some(i) = columns.iter().position(|(n, _)| *n == name) {
                    return Err(ScoreError::ColumnClash {
                        column: name,
                        first: owner[i].clone(),
                        second: source.describe(),
                    });
                }
                columns.push((name, values));
                owner.push(source.describe());
            }
            sources.push(SourceRecord {
                source: source.describe(),
                provenance,
                columns: rows.columns.iter().map(|(n, _)| n.clone()).collect(),
                rows: rows.keys.len(),
                unmatched_models: joined.unmatched_models,
                unused_rows: joined.unused_rows.len(),
                unused_examples: joined.unused_rows.into_iter().take(20).collect(),
                duplicates: joined.duplicates,
            });
        }
        Ok(Self {
            models: models.iter().map(|m| m.name.clone()).collect(),
            columns,
            sources,
            withheld: Vec::new(),
        })
    }

    /// Moves the scores of `models` out of every column into
    /// [`Scores::withheld`], so that nothing but the ranking check sees them.
    pub fn withhold(&mut self, models: &[String]) {
        for (name, values) in &mut self.columns {
            let mut kept = vec![f64::NAN; values.len()];
            for (i, m) in self.models.iter().enumerate() {
                if models.contains(m) {
                    kept[i] = std::mem::replace(&mut values[i], f64::NAN);
                }
            }
            self.withheld.push((name.clone(), kept));
        }
    }

    /// A withheld score column (NaN except for withheld models).
    pub fn withheld_column(&self, name: &str) -> Option<&[f64]> {
        self.withheld
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// A withheld score column for `models` given by name (NaN elsewhere).
    pub fn withheld_for(&self, column: &str, models: &[String]) -> Option<Vec<f64>> {
        Some(self.for_models(self.withheld_column(column)?, models))
    }

    fn for_models(&self, values: &[f64], models: &[String]) -> Vec<f64> {
        models
            .iter()
            .map(|m| {
                self.models
                    .iter()
                    .position(|n| n == m)
                    .map_or(f64::NAN, |i| values[i])
            })
            .collect()
    }

    /// A score column, one value per study model (NaN where it has none).
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The score columns (benchmarks), in source order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|(n, _)| n.clone()).collect()
    }

    /// A score column for `models` given by name (NaN where a model has none).
    pub fn column_for(&self, column: &str, models: &[String]) -> Option<Vec<f64>> {
        Some(self.for_models(self.column(column)?, models))
    }

    /// The joined scores as a table: `model`, then one column per score.
    pub fn table(&self) -> crate::table::Table {
        let mut t = crate::table::Table::default();
        t.push("model", crate::table::Values::Str(self.models.clone()));
        for (name, values) in &self.columns {
            t.push(name, crate::table::Values::F64(values.clone()));
        }
        t
    }

    /// Study models that no source scored at all.
    pub fn unscored_models(&self) -> Vec<String> {
        (0..self.models.len())
            .filter(|&i| self.columns.iter().all(|(_, v)| !v[i].is_finite()))
            .map(|i| self.models[i].clone())
            .collect()
    }
}

fn hash_files(paths: &[PathBuf]) -> Result<String, ScoreError> {
    if let [one] = paths {
        return crate::io::hash::sha256_file(one).map_err(|source| ScoreError::Read {
            path: one.clone(),
            source,
        });
    }
    let mut h = crate::io::hash::PartsHasher::new();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|source| ScoreError::Read {
            path: p.clone(),
            source,
        })?;
        h.part(
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .as_bytes(),
        )
        .part(&bytes);
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_source(path: PathBuf) -> Source {
        Source {
            kind: SourceKind::Table(TableSource {
                path,
                model_column: "model".into(),
                revision_column: None,
                columns: vec![],
            }),
            prefix: String::new(),
            duplicates: Duplicates::Error,
            model_aliases: vec![],
        }
    }

    #[test]
    fn joins_sources_and_reports_what_did_not_match() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, "model,acc,note\na,0.5,x\nc,0.25,y\n").unwrap();
        let q = dir.path().join("t.csv");
        std::fs::write(&q, "model,acc\nb,0.75\n").unwrap();
        let mut second = table_source(q);
        second.prefix = "t_".into();
        let settings = ScoreSettings {
            sources: vec![table_source(p.clone()), second],
        };
        let models = [ModelKey::named("a"), ModelKey::named("b")];
        let s = Scores::load(&settings, &models, None).unwrap();
        assert_eq!(s.names(), vec!["acc", "t_acc"]);
        assert_eq!(s.column("acc").unwrap()[0], 0.5);
        assert!(s.column("acc").unwrap()[1].is_nan());
        assert_eq!(s.column("t_acc").unwrap()[1], 0.75);
        assert_eq!(s.sources[0].unmatched_models, vec!["b"]);
        assert_eq!(s.sources[0].unused_examples, vec!["c"]);
        assert!(s.unscored_models().is_empty());
        // Withholding b moves its score out of every column, and only its.
        let mut w = s.clone();
        w.withhold(&["b".to_string()]);
        assert!(w.column("t_acc").unwrap()[1].is_nan() && w.column("acc").unwrap()[0] == 0.5);
        assert_eq!(w.withheld_column("t_acc").unwrap()[1], 0.75);
        assert!(w.withheld_column("acc").unwrap().iter().all(|v| v.is_nan()));

        let clash = ScoreSettings {
            sources: vec![table_source(p.clone()), table_source(p)],
        };
        let err = Scores::load(&clash, &models, None).unwrap_err();
        assert!(
            err.to_string().contains("give one source a `prefix`"),
            "{err}"
        );
    }
}
