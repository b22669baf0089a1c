//! Scores from lm-evaluation-harness result files (`results_*.json`, or a
//! folder of them, searched recursively). Each file gives one row: the model
//! and revision from `config.model_args` (`pretrained=org/name,revision=step1000`,
//! as a string in 0.3 or a mapping in 0.4), and one column per task and
//! metric, named `task.metric`, with `.Nshot` appended for few-shot runs
//! (`arc_easy.acc`, `arc_easy.acc.5shot`). Metric keys of 0.4
//! (`acc,none`) lose their filter suffix; standard errors are skipped.
//! Files for the same model and revision merge into one row.

use super::matching::{RowKey, Rows};
use super::ScoreError;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LmEvalSource {
    pub path: PathBuf,
}

/// One parsed result file.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultFile {
    pub key: RowKey,
    pub scores: BTreeMap<String, f64>,
}

impl LmEvalSource {
    /// The result files, sorted, so rows come in a stable order.
    pub fn files(&self) -> Result<Vec<PathBuf>, ScoreError> {
        if self.path.is_file() {
            return Ok(vec![self.path.clone()]);
        }
        let mut out = Vec::new();
        let mut stack = vec![self.path.clone()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| ScoreError::Read {
                path: dir.clone(),
                source,
            })?;
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
        out.sort();
        if out.is_empty() {
            return Err(ScoreError::LmEval {
                path: self.path.clone(),
                reason: "no .json result files in this folder".into(),
            });
        }
        Ok(out)
    }

    pub fn rows(&self) -> Result<Rows, ScoreError> {
        let mut merged: Vec<ResultFile> = Vec::new();
        for path in self.files()? {
            let file = parse_file(&path)?;
            match merged.iter_mut().find(|m| m.key == file.key) {
                Some(m) => {
                    for (k, v) in file.scores {
                        if let Some(old) = m.scores.insert(k.clone(), v).filter(|old| *old != v) {
                            return Err(ScoreError::LmEval {
                                path,
                                reason: format!(
                                    "`{k}` of {} is {v} here and {old} in another file",
                                    file.key
                                ),
                            });
                        }
                    }
                }
                None => merged.push(file),
            }
        }
        let mut names: Vec<String> = merged
            .iter()
            .flat_map(|m| m.scores.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        let columns = names
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    merged
                        .iter()
                        .map(|m| m.scores.get(n).copied().unwrap_or(f64::NAN))
                        .collect(),
                )
            })
            .collect();
        Ok(Rows {
            keys: merged.into_iter().map(|m| m.key).collect(),
            columns,
        })
    }

    pub fn column_names(&self) -> Result<Vec<String>, ScoreError> {
        Ok(self.rows()?.columns.into_iter().map(|(n, _)| n).collect())
    }
}

pub fn parse_file(path: &Path) -> Result<ResultFile, ScoreError> {
    let bad = |reason: String| ScoreError::LmEval {
        path: path.into(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ScoreError::Read {
        path: path.into(),
        source,
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    parse(&json).map_err(bad)
}

pub fn parse(json: &Value) -> Result<ResultFile, String> {
    let results = json
        .get("results")
        .and_then(Value::as_object)
        .ok_or("no `results` object: not an lm-eval result file")?;
    let config = json.get("config").cloned().unwrap_or(Value::Null);
    let args = model_args(config.get("model_args").unwrap_or(&Value::Null));
    let model = args
        .get("pretrained")
        .or_else(|| args.get("model"))
        .cloned()
        .or_else(|| json.get("model_name").and_then(Value::as_str).map(str::to_string))
        .ok_or("cannot tell which model was evaluated: no `pretrained=` in config.model_args and no model_name")?;
    let revision = args.get("revision").cloned().or_else(|| {
        config
            .get("model_revision")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let global_shots = config.get("num_fewshot").and_then(Value::as_u64);
    let task_shots = json.get("n-shot").and_then(Value::as_object);
    let mut scores = BTreeMap::new();
    for (task, metrics) in results {
        let Some(metrics) = metrics.as_object() else {
            continue;
        };
        let shots = task_shots
            .and_then(|s| s.get(task))
            .and_then(Value::as_u64)
            .or(global_shots)
            .unwrap_or(0);
        for (key, value) in metrics {
            let metric = key.split(',').next().unwrap_or(key);
            if metric.contains("stderr") || metric == "alias" {
                continue;
            }
            let Some(v) = value.as_f64() else { continue };
            let name = if shots > 0 {
                format!("{task}.{metric}.{shots}shot")
            } else {
                format!("{task}.{metric}")
            };
            scores.insert(name, v);
        }
    }
    Ok(ResultFile {
        key: RowKey { model, revision },
        scores,
    })
}

/// `pretrained=a,revision=b` or `{"pretrained": "a", "revision": "b"}`.
fn model_args(v: &Value) -> BTreeMap<String, String> {
    match v {
        Value::String(s) => s
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect(),
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_0_4_format_with_filters_and_per_task_shots() {
        // Constructed in the shape lm-eval 0.4 writes (not a recorded file).
        let json: Value = serde_json::from_str(
            r#"{"results": {"hellaswag": {"alias": "hellaswag", "acc,none": 0.25, "acc_stderr,none": 0.01, "acc_norm,none": 0.3}},
                "n-shot": {"hellaswag": 10},
                "config": {"model": "hf", "model_args": {"pretrained": "org/m", "revision": "step5"}}}"#,
        )
        .unwrap();
        let r = parse(&json).unwrap();
        assert_eq!(
            r.key,
            RowKey {
                model: "org/m".into(),
                revision: Some("step5".into())
            }
        );
        assert_eq!(
            r.scores.keys().collect::<Vec<_>>(),
            vec!["hellaswag.acc.10shot", "hellaswag.acc_norm.10shot"]
        );
    }

    #[test]
    fn a_file_that_is_not_a_result_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        std::fs::write(&p, "{\"a\": 1}").unwrap();
        let err = parse_file(&p).unwrap_err().to_string();
        assert!(
            err.contains("x.json") && err.contains("no `results` object"),
            "{err}"
        );
    }
}
