//! Scores from a CSV or parquet table: one row per model (and revision), a
//! model column, an optional revision column, and benchmark columns, all
//! numeric columns by default, or those named in a `columns` mapping
//! (new name → column in the file), renamed.

use super::matching::{RowKey, Rows};
use super::ScoreError;
use crate::table::{Table, TableError};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableSource {
    pub path: PathBuf,
    pub model_column: String,
    pub revision_column: Option<String>,
    /// (name in lossy, column in the file); empty means every numeric column.
    pub columns: Vec<(String, String)>,
}

impl TableSource {
    /// The score columns this source provides, by their lossy names (the
    /// mapping's names, or the file's numeric columns, which takes a read).
    pub fn column_names(&self) -> Result<Vec<String>, ScoreError> {
        if !self.columns.is_empty() {
            return Ok(self.columns.iter().map(|(n, _)| n.clone()).collect());
        }
        let table = Table::read(&self.path)?;
        Ok(self.numeric_columns(&table))
    }

    fn numeric_columns(&self, table: &Table) -> Vec<String> {
        table
            .columns
            .iter()
            .filter(|c| {
                c.name != self.model_column && Some(&c.name) != self.revision_column.as_ref()
            })
            .filter(|c| table.f64s(&c.name).is_some())
            .map(|c| c.name.clone())
            .collect()
    }

    pub fn rows(&self) -> Result<Rows, ScoreError> {
        let table = Table::read(&self.path)?;
        let missing = |column: &str| TableError::MissingColumn {
            path: self.path.clone(),
            column: column.into(),
        };
        let models = table
            .strs(&self.model_column)
            .ok_or_else(|| missing(&self.model_column))?;
        let revisions = match &self.revision_column {
            Some(c) => Some(text_column(&table, c).ok_or_else(|| missing(c))?),
            None => None,
        };
        let keys = (0..table.rows())
            .map(|i| RowKey {
                model: models[i].trim().to_string(),
                revision: revisions
                    .as_ref()
                    .map(|r| r[i].clone())
                    .filter(|r| !r.is_empty()),
            })
            .collect();
        let pairs: Vec<(String, String)> = if self.columns.is_empty() {
            self.numeric_columns(&table)
                .into_iter()
                .map(|c| (c.clone(), c))
                .collect()
        } else {
            self.columns.clone()
        };
        let mut columns = Vec::new();
        for (name, column) in pairs {
            let values = table
                .f64s(&column)
                .ok_or_else(|| match table.column(&column) {
                    Some(_) => ScoreError::NotNumeric {
                        path: self.path.clone(),
                        column: column.clone(),
                    },
                    None => missing(&column).into(),
                })?;
            columns.push((name, values));
        }
        Ok(Rows { keys, columns })
    }
}

/// A column as text (numbers printed, so a numeric `step` column works as a revision).
fn text_column(table: &Table, name: &str) -> Option<Vec<String>> {
    if let Some(s) = table.strs(name) {
        return Some(s.to_vec());
    }
    table.f64s(name).map(|v| {
        v.iter()
            .map(|x| {
                if x.is_finite() {
                    format!("{x}")
                } else {
                    String::new()
                }
            })
            .collect()
    })
}

/// Header of a score table, for study checks.
pub fn header(path: &Path) -> Result<Vec<String>, ScoreError> {
    Ok(Table::read_header(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_renames_columns_and_reads_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(
            &p,
            "Model,step,MMLU (5-shot),note\norg/a,1000,0.5,x\norg/a,2000,0.6,y\n",
        )
        .unwrap();
        let src = TableSource {
            path: p.clone(),
            model_column: "Model".into(),
            revision_column: Some("step".into()),
            columns: vec![("mmlu".into(), "MMLU (5-shot)".into())],
        };
        let rows = src.rows().unwrap();
        assert_eq!(
            rows.keys[1],
            RowKey {
                model: "org/a".into(),
                revision: Some("2000".into())
            }
        );
        assert_eq!(rows.columns, vec![("mmlu".to_string(), vec![0.5, 0.6])]);
        let all = TableSource {
            columns: vec![],
            ..src.clone()
        };
        assert_eq!(all.column_names().unwrap(), vec!["MMLU (5-shot)"]);
        let bad = TableSource {
            columns: vec![("n".into(), "note".into())],
            ..src
        };
        assert!(bad
            .rows()
            .unwrap_err()
            .to_string()
            .contains("`note` is not numeric"));
    }
}
