//! Joining score rows to study models. A row names a model by hub id (or
//! study name) and optionally a revision; a model is matched by its `id`
//! (its name when it has none) and, when the row pins a revision, by that
//! revision too. A row may also name a local model by its folder, as
//! lm-eval records `pretrained=data/suite/m/step512`: the row's path
//! (two components or more) must end the model's path. Several rows for one model are resolved by the source's
//! [`Duplicates`] policy and always reported; rows that match no model are
//! reported as unused.

use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// How a study model is known to score sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelKey {
    /// The study's name for the model.
    pub name: String,
    /// Its hub id, when it has one.
    pub id: Option<String>,
    /// The revision asked for (branch, tag, step or sha).
    pub revision: Option<String>,
    /// The commit it resolved to, when known.
    pub sha: Option<String>,
    /// Its local folder or file (canonical), when it has one.
    pub path: Option<PathBuf>,
}

impl ModelKey {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.into(),
            id: None,
            revision: None,
            sha: None,
            path: None,
        }
    }

    fn matches(&self, row: &RowKey) -> bool {
        let id = self.id.as_deref().unwrap_or(&self.name);
        let by_path = self
            .path
            .as_deref()
            .is_some_and(|p| names_path(&row.model, p));
        if !(row.model.eq_ignore_ascii_case(id) || row.model == self.name || by_path) {
            return false;
        }
        match (&row.revision, &self.revision) {
            (None, None) => true,
            (None, Some(r)) => r == "main",
            (Some(r), mine) => {
                mine.as_deref() == Some(r.as_str())
                    || self.sha.as_deref() == Some(r.as_str())
                    || (r == "main" && mine.is_none())
            }
        }
    }
}

/// Whether `row` is a file path whose components (after any leading `/`,
/// `.`, `..` or `~`) are the last two or more components of `path`.
fn names_path(row: &str, path: &Path) -> bool {
    let row: Vec<&str> = row
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .skip_while(|c| *c == ".." || *c == "~")
        .collect();
    let model: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| {
            if let Component::Normal(s) = c {
                Some(s)
            } else {
                None
            }
        })
        .collect();
    row.len() >= 2
        && row.len() <= model.len()
        && model[model.len() - row.len()..]
            .iter()
            .zip(&row)
            .all(|(m, r)| m.to_str() == Some(*r))
}

/// How a score row names its model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowKey {
    pub model: String,
    pub revision: Option<String>,
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.revision {
            Some(r) => write!(f, "{}@{r}", self.model),
            None => f.write_str(&self.model),
        }
    }
}

/// What to do when several rows match one model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Duplicates {
    /// Stop with an error naming the model and rows.
    #[default]
    Error,
    /// The first matching row, in file order.
    First,
    /// The mean of the matching rows, column by column (missing values ignored).
    Mean,
}

/// Score rows as one source delivers them.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub keys: Vec<RowKey>,
    /// Numeric columns, each with one value per key (NaN where missing).
    pub columns: Vec<(String, Vec<f64>)>,
}

/// The rows joined to the study's models.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Joined {
    /// Columns with one value per study model (NaN where unmatched).
    #[serde(skip)]
    pub columns: Vec<(String, Vec<f64>)>,
    pub unmatched_models: Vec<String>,
    pub unused_rows: Vec<String>,
    /// Models matched by more than one row, with the row count.
    pub duplicates: Vec<(String, usize)>,
}

#[derive(Debug, thiserror::Error)]
#[error("model `{model}` matches {count} rows ({rows}); keep one, or set `duplicates: first` or `duplicates: mean` on this source")]
pub struct DuplicateRows {
    pub model: String,
    pub count: usize,
    pub rows: String,
}

pub fn join(rows: &Rows, models: &[ModelKey], policy: Duplicates) -> Result<Joined, DuplicateRows> {
    let mut used = vec![false; rows.keys.len()];
    let mut out = Joined {
        columns: rows
            .columns
            .iter()
            .map(|(n, _)| (n.clone(), Vec::with_capacity(models.len())))
            .collect(),
        ..Default::default()
    };
    for m in models {
        let hits: Vec<usize> = (0..rows.keys.len())
            .filter(|&i| m.matches(&rows.keys[i]))
            .collect();
        for &i in &hits {
            used[i] = true;
        }
        if hits.is_empty() {
            out.unmatched_models.push(m.name.clone());
        }
        if hits.len() > 1 {
            if policy == Duplicates::Error {
                let rows = hits
                    .iter()
                    .map(|&i| format!("row {}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(DuplicateRows {
                    model: m.name.clone(),
                    count: hits.len(),
                    rows,
                });
            }
            out.duplicates.push((m.name.clone(), hits.len()));
        }
        for ((_, src), (_, dst)) in rows.columns.iter().zip(out.columns.iter_mut()) {
            let values: Vec<f64> = hits.iter().map(|&i| src[i]).collect();
            dst.push(match policy {
                _ if values.is_empty() => f64::NAN,
                Duplicates::Error | Duplicates::First => values[0],
                Duplicates::Mean => {
                    let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
                    if finite.is_empty() {
                        f64::NAN
                    } else {
                        finite.iter().sum::<f64>() / finite.len() as f64
                    }
                }
            });
        }
    }
    out.unused_rows = (0..rows.keys.len())
        .filter(|&i| !used[i])
        .map(|i| rows.keys[i].to_string())
        .collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(model: &str, revision: Option<&str>) -> RowKey {
        RowKey {
            model: model.into(),
            revision: revision.map(Into::into),
        }
    }

    fn rows() -> Rows {
        Rows {
            keys: vec![
                key("org/a", None),
                key("org/b", Some("step10")),
                key("org/b", Some("step20")),
                key("org/a", None),
                key("other", None),
            ],
            columns: vec![("acc".into(), vec![0.5, 0.1, 0.2, 0.7, 0.9])],
        }
    }

    fn model(name: &str, id: Option<&str>, revision: Option<&str>) -> ModelKey {
        ModelKey {
            name: name.into(),
            id: id.map(Into::into),
            revision: revision.map(Into::into),
            sha: None,
            path: None,
        }
    }

    #[test]
    fn matches_by_id_and_revision_and_reports_the_rest() {
        let models = [
            model("b10", Some("org/b"), Some("step10")),
            model("b20", Some("org/b"), Some("step20")),
            model("x", None, None),
        ];
        let j = join(&rows(), &models, Duplicates::Error).unwrap();
        assert_eq!(j.columns[0].1[..2], [0.1, 0.2]);
        assert!(j.columns[0].1[2].is_nan());
        assert_eq!(j.unmatched_models, vec!["x"]);
        assert_eq!(j.unused_rows, vec!["org/a", "org/a", "other"]);
    }

    #[test]
    fn duplicates_are_an_error_unless_a_policy_says_otherwise() {
        let models = [model("a", Some("org/a"), None)];
        let err = join(&rows(), &models, Duplicates::Error).unwrap_err();
        assert_eq!(err.count, 2);
        assert!(err.to_string().contains("row 1, row 4"), "{err}");
        let j = join(&rows(), &models, Duplicates::Mean).unwrap();
        assert!((j.columns[0].1[0] - 0.6).abs() < 1e-12);
        assert_eq!(j.duplicates, vec![("a".to_string(), 2)]);
        assert_eq!(
            join(&rows(), &models, Duplicates::First).unwrap().columns[0].1[0],
            0.5
        );
    }

    #[test]
    fn a_row_without_revision_matches_only_the_main_revision() {
        let j = join(
            &rows(),
            &[model("a1", Some("org/a"), Some("step1"))],
            Duplicates::First,
        )
        .unwrap();
        assert_eq!(j.unmatched_models, vec!["a1"]);
        let j = join(
            &rows(),
            &[model("am", Some("ORG/A"), Some("main"))],
            Duplicates::First,
        )
        .unwrap();
        assert_eq!(j.columns[0].1[0], 0.5, "hub ids match case-insensitively");
    }

    #[test]
    fn a_row_naming_a_folder_matches_the_local_model_there() {
        let rows = Rows {
            keys: vec![
                key("data/suite/m/step512", None),
                key("./suite/s/step512", None),
                key("step512", None),
                key("/elsewhere/m/step512", None),
            ],
            columns: vec![("acc".into(), vec![0.6, 0.4, 0.9, 0.1])],
        };
        let local = |name: &str, path: &str| ModelKey {
            path: Some(path.into()),
            ..ModelKey::named(name)
        };
        let models = [
            local("m512", "/work/lossy/data/suite/m/step512"),
            local("s512", "/work/lossy/data/suite/s/step512"),
            local("l512", "/work/lossy/data/suite/l/step512"),
        ];
        let j = join(&rows, &models, Duplicates::Error).unwrap();
        assert_eq!(j.columns[0].1[..2], [0.6, 0.4]);
        assert_eq!(
            j.unmatched_models,
            vec!["l512"],
            "one component alone is too ambiguous to match"
        );
        assert_eq!(j.unused_rows, vec!["step512", "/elsewhere/m/step512"]);
    }
}
