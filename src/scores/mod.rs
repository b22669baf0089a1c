//! Stage 4, scores: downstream benchmark scores, keyed by model name, read
//! from a local CSV, and joined to the feature table. Models without a score
//! and score rows without a model are reported, never silently dropped.

use crate::table::{Table, TableError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Checked score settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreSettings {
    pub csv: PathBuf,
    /// The column naming the model (matched against study model names).
    pub model_column: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("cannot read scores file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("scores file {path} is empty (no header line)")]
    Empty { path: PathBuf },
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("scores file {path}: model `{model}` appears in {count} rows; keep one row per model")]
    Duplicate { path: PathBuf, model: String, count: usize },
}

/// The header of a CSV file (cheap: reads the first line only).
pub fn read_header(path: &Path) -> Result<Vec<String>, ScoreError> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|source| ScoreError::Read { path: path.into(), source })?;
    let mut line = String::new();
    std::io::BufReader::new(file).read_line(&mut line).map_err(|source| ScoreError::Read { path: path.into(), source })?;
    let line = line.trim_end_matches(['\n', '\r']).trim_start_matches('\u{feff}');
    if line.trim().is_empty() {
        return Err(ScoreError::Empty { path: path.into() });
    }
    Ok(line.split(',').map(|s| s.trim().trim_matches('"').to_string()).collect())
}

/// Scores for the study's models, with what could not be matched.
#[derive(Clone, Debug)]
pub struct Scores {
    pub table: Table,
    pub model_column: String,
    /// Study models with no row in the scores file.
    pub unmatched_models: Vec<String>,
    /// Score rows naming no study model.
    pub unused_rows: Vec<String>,
    pub source: PathBuf,
    pub sha256: String,
}

impl Scores {
    pub fn load(settings: &ScoreSettings, models: &[String]) -> Result<Self, ScoreError> {
        let table = Table::read_csv(&settings.csv)?;
        let names = table
            .strs(&settings.model_column)
            .ok_or_else(|| TableError::MissingColumn { path: settings.csv.clone(), column: settings.model_column.clone() })?
            .to_vec();
        for n in &names {
            let count = names.iter().filter(|m| *m == n).count();
            if count > 1 {
                return Err(ScoreError::Duplicate { path: settings.csv.clone(), model: n.clone(), count });
            }
        }
        let unmatched_models = models.iter().filter(|m| !names.contains(m)).cloned().collect();
        let unused_rows = names.iter().filter(|n| !models.contains(n)).cloned().collect();
        let sha256 = crate::io::hash::sha256_file(&settings.csv).map_err(|source| ScoreError::Read { path: settings.csv.clone(), source })?;
        Ok(Self { table, model_column: settings.model_column.clone(), unmatched_models, unused_rows, source: settings.csv.clone(), sha256 })
    }

    /// The score of `column` for each model (NaN where absent).
    pub fn column_for(&self, column: &str, models: &[String]) -> Option<Vec<f64>> {
        let names = self.table.strs(&self.model_column)?;
        let values = self.table.f64s(column)?;
        Some(models.iter().map(|m| names.iter().position(|n| n == m).map_or(f64::NAN, |i| values[i])).collect())
    }

    /// Benchmark columns (numeric columns other than the model column).
    pub fn benchmarks(&self) -> Vec<String> {
        self.table
            .columns
            .iter()
            .filter(|c| c.name != self.model_column && self.table.f64s(&c.name).is_some())
            .map(|c| c.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_by_model_name_and_reports_mismatches() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, "model,acc,note\na,0.5,x\nc,0.25,y\n").unwrap();
        assert_eq!(read_header(&p).unwrap(), vec!["model", "acc", "note"]);
        let s = Scores::load(&ScoreSettings { csv: p, model_column: "model".into() }, &["a".into(), "b".into()]).unwrap();
        assert_eq!(s.unmatched_models, vec!["b"]);
        assert_eq!(s.unused_rows, vec!["c"]);
        let acc = s.column_for("acc", &["a".into(), "b".into()]).unwrap();
        assert_eq!(acc[0], 0.5);
        assert!(acc[1].is_nan());
        assert_eq!(s.benchmarks(), vec!["acc"]);
    }

    #[test]
    fn duplicate_rows_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, "model,acc\na,0.5\na,0.6\n").unwrap();
        let err = Scores::load(&ScoreSettings { csv: p, model_column: "model".into() }, &["a".into()]).unwrap_err();
        assert!(err.to_string().contains("appears in 2 rows"), "{err}");
    }
}
