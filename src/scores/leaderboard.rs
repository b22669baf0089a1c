//! The Open LLM Leaderboard v2: the `open-llm-leaderboard/contents` dataset,
//! fetched as parquet from the hub (revision pinned to a commit, files in the
//! shared HF cache), with the final published table compiled in as a
//! snapshot for machines without network access.
//!
//! Columns get stable snake-case names whatever their spelling upstream
//! (`Average ⬆️` → `average`, `MATH Lvl 5` → `math_lvl_5`, `MMLU-PRO Raw` →
//! `mmlu_pro_raw`, `#Params (B)` → `params_b`); rows are keyed by `fullname`,
//! the model's hub id. Normalised scores are 0–100, raw ones 0–1.

use super::matching::{RowKey, Rows};
use super::ScoreError;
use crate::hub::{Hub, HubError, RepoRef};
use crate::table::Table;
use serde::{Deserialize, Serialize};

pub const DATASET: &str = "open-llm-leaderboard/contents";

/// The snapshot compiled into lossy (see `data/scores/SOURCES.md`).
pub const SNAPSHOT_FILE: &str = "data/scores/open_llm_leaderboard_v2_final_normalized.csv";
const SNAPSHOT: &[u8] =
    include_bytes!("../../data/scores/open_llm_leaderboard_v2_final_normalized.csv");

/// The benchmark columns a leaderboard source provides.
pub const COLUMNS: &[&str] = &[
    "average",
    "ifeval",
    "bbh",
    "math_lvl_5",
    "gpqa",
    "musr",
    "mmlu_pro",
    "ifeval_raw",
    "bbh_raw",
    "math_lvl_5_raw",
    "gpqa_raw",
    "musr_raw",
    "mmlu_pro_raw",
    "params_b",
];

/// When to use the compiled-in snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotUse {
    /// Only when the hub cannot be reached and nothing is cached.
    #[default]
    Fallback,
    /// Never: fail instead.
    Never,
    /// Always: no network at all (reproducible to the byte).
    Always,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeaderboardSource {
    pub dataset: String,
    pub revision: String,
    pub snapshot: SnapshotUse,
}

impl Default for LeaderboardSource {
    fn default() -> Self {
        Self {
            dataset: DATASET.into(),
            revision: "main".into(),
            snapshot: SnapshotUse::Fallback,
        }
    }
}

/// Where the rows came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "from", rename_all = "lowercase")]
pub enum Origin {
    Hub {
        dataset: String,
        revision: String,
        sha: String,
        files: Vec<String>,
        from_cache: bool,
    },
    Snapshot {
        file: String,
        sha256: String,
        reason: String,
    },
}

impl LeaderboardSource {
    pub fn rows(&self, hub: Option<&Hub>) -> Result<(Rows, Origin), ScoreError> {
        if self.snapshot == SnapshotUse::Always {
            return snapshot("the study asks for the snapshot (`snapshot: always`)".into());
        }
        let fetched = match hub {
            Some(hub) => self.fetch(hub),
            None => Err(ScoreError::Hub(HubError::Offline {
                what: format!("dataset {}", self.dataset),
                cache: Default::default(),
            })),
        };
        match fetched {
            Err(ScoreError::Hub(e))
                if self.snapshot == SnapshotUse::Fallback
                    && (e.is_transient() || matches!(e, HubError::Offline { .. })) =>
            {
                snapshot(format!("the hub could not be used: {e}"))
            }
            other => other,
        }
    }

    fn fetch(&self, hub: &Hub) -> Result<(Rows, Origin), ScoreError> {
        let repo = RepoRef::dataset(&self.dataset);
        let resolved = hub.resolve(&repo, &self.revision)?;
        let files: Vec<String> = resolved
            .files
            .iter()
            .filter(|f| f.ends_with(".parquet"))
            .cloned()
            .collect();
        if files.is_empty() {
            return Err(ScoreError::Leaderboard(format!(
                "dataset {} at {} has no parquet files",
                self.dataset, resolved.sha
            )));
        }
        let mut parts = Vec::new();
        for f in &files {
            let path = hub.file(&repo, &resolved.sha, f)?;
            parts.push(Table::read_parquet(&path)?);
        }
        let rows = to_rows(&Table::concat(parts))?;
        Ok((
            rows,
            Origin::Hub {
                dataset: self.dataset.clone(),
                revision: self.revision.clone(),
                sha: resolved.sha,
                files,
                from_cache: resolved.from_cache,
            },
        ))
    }
}

fn snapshot(reason: String) -> Result<(Rows, Origin), ScoreError> {
    let table = Table::read_csv_bytes(SNAPSHOT, SNAPSHOT_FILE.as_ref())?;
    let sha256 = crate::io::hash::sha256_hex(SNAPSHOT);
    Ok((
        to_rows(&table)?,
        Origin::Snapshot {
            file: SNAPSHOT_FILE.into(),
            sha256,
            reason,
        },
    ))
}

/// Leaderboard rows keyed by `fullname`, columns renamed to [`COLUMNS`].
pub fn to_rows(table: &Table) -> Result<Rows, ScoreError> {
    let names = table
        .strs("fullname")
        .ok_or_else(|| ScoreError::Leaderboard("the table has no `fullname` column".into()))?;
    let keys = names
        .iter()
        .map(|n| RowKey {
            model: n.trim().to_string(),
            revision: None,
        })
        .collect();
    let mut columns = Vec::new();
    for c in &table.columns {
        let name = snake(&c.name);
        if COLUMNS.contains(&name.as_str()) {
            if let Some(v) = table.f64s(&c.name) {
                columns.push((name, v));
            }
        }
    }
    if !columns.iter().any(|(n, _)| n == "average") {
        return Err(ScoreError::Leaderboard(
            "the table has no `Average ⬆️` column: not the leaderboard's contents?".into(),
        ));
    }
    Ok(Rows { keys, columns })
}

/// `Average ⬆️` → `average`, `MATH Lvl 5 Raw` → `math_lvl_5_raw`, `#Params (B)` → `params_b`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_column_spellings_become_stable_names() {
        assert_eq!(snake("Average ⬆️"), "average");
        assert_eq!(snake("#Params (B)"), "params_b");
        assert_eq!(snake("MATH Lvl 5"), "math_lvl_5");
        assert_eq!(snake("MATH_Lvl_5"), "math_lvl_5");
        assert_eq!(snake("MMLU-PRO Raw"), "mmlu_pro_raw");
        assert_eq!(snake("IFEval"), "ifeval");
    }

    #[test]
    fn the_snapshot_has_every_model_and_its_published_scores() {
        let (rows, origin) = snapshot("test".into()).unwrap();
        assert_eq!(rows.keys.len(), 4576);
        assert!(matches!(origin, Origin::Snapshot { .. }));
        let i = rows
            .keys
            .iter()
            .position(|k| k.model == "EleutherAI/pythia-160m")
            .unwrap();
        let col = |n: &str| rows.columns.iter().find(|(c, _)| c == n).unwrap().1[i];
        // Published values (data/scores/SOURCES.md; same as the constructed /rows fixture).
        assert_eq!(
            (
                col("average"),
                col("ifeval"),
                col("math_lvl_5"),
                col("mmlu_pro")
            ),
            (5.73, 18.16, 0.91, 1.33)
        );
    }
}
