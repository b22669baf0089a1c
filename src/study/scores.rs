//! Checks the `scores` section: each source names exactly one kind (`csv`,
//! `parquet`, `lm_eval` or `leaderboard`), its files exist, its columns are
//! there, and its options fit its kind.

use super::raw::RawScoreSource;
use super::{at, suggest, Checker, Pos};
use crate::scores::{
    LeaderboardSource, LmEvalSource, ScoreSettings, Source, SourceKind, TableSource,
};

pub(super) fn check_scores(c: &mut Checker, raw: &[RawScoreSource]) -> ScoreSettings {
    let sources = raw.iter().filter_map(|s| check_source(c, s)).collect();
    ScoreSettings { sources }
}

fn check_source(c: &mut Checker, raw: &RawScoreSource) -> Option<Source> {
    let kind = source_kind(c, raw)?;
    check_kind_options(c, raw, kind);
    let source_kind = match kind {
        "csv" | "parquet" => SourceKind::Table(table_source(c, raw)?),
        "lm_eval" => SourceKind::LmEval(lm_eval_source(c, raw)?),
        _ => SourceKind::Leaderboard(leaderboard_source(c, raw)?),
    };
    let prefix = raw
        .prefix
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_default();
    let default_duplicates = if matches!(source_kind, SourceKind::Leaderboard(_)) {
        crate::scores::Duplicates::Mean
    } else {
        crate::scores::Duplicates::Error
    };
    Some(Source {
        kind: source_kind,
        prefix,
        duplicates: raw.duplicates.unwrap_or(default_duplicates),
        model_aliases: raw
            .model_aliases
            .clone()
            .map(|m| m.into_iter().collect())
            .unwrap_or_default(),
    })
}

/// The one kind a source names (`csv`, `parquet`, `lm_eval` or
/// `leaderboard`); none names none or more than one.
fn source_kind(c: &mut Checker, raw: &RawScoreSource) -> Option<&'static str> {
    let kinds: Vec<(&str, Option<Pos>)> = [
        ("csv", &raw.csv),
        ("parquet", &raw.parquet),
        ("lm_eval", &raw.lm_eval),
        ("leaderboard", &raw.leaderboard),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, at(v))))
    .collect();
    let any_pos = kinds
        .first()
        .and_then(|k| k.1)
        .or(raw.model_column.as_ref().and_then(at))
        .or(raw.prefix.as_ref().and_then(at));
    match kinds.as_slice() {
        [] => {
            c.problem(
                any_pos,
                "a score source needs one of `csv`, `parquet`, `lm_eval` or `leaderboard`",
            );
            None
        }
        [_, second, ..] => {
            c.problem(second.1, format!("a score source has one kind; this one names {}: split it into a list of sources", kinds.iter().map(|k| format!("`{}`", k.0)).collect::<Vec<_>>().join(" and ")));
            None
        }
        [(k, _)] => Some(*k),
    }
}

/// Options that apply to other kinds of source than `kind`, and the hub
/// revision's syntax.
fn check_kind_options(c: &mut Checker, raw: &RawScoreSource, kind: &str) {
    let only_for = |c: &mut Checker, present: Option<Option<Pos>>, key: &str, kinds: &str| {
        if let Some(pos) = present {
            c.problem(
                pos,
                format!("`{key}` applies to {kinds} sources, not to `{kind}`"),
            );
        }
    };
    if !matches!(kind, "csv" | "parquet") {
        let tables = "csv and parquet";
        only_for(c, raw.model_column.as_ref().map(at), "model_column", tables);
        only_for(
            c,
            raw.revision_column.as_ref().map(at),
            "revision_column",
            tables,
        );
        only_for(c, raw.columns.as_ref().map(at), "columns", tables);
    }
    if let Some(Err(e)) = raw
        .revision
        .as_ref()
        .map(|r| crate::hub::names::check_revision(&r.value))
    {
        c.problem(raw.revision.as_ref().and_then(at), e.to_string());
    }
    if kind != "leaderboard" {
        only_for(c, raw.dataset.as_ref().map(at), "dataset", "leaderboard");
        only_for(c, raw.revision.as_ref().map(at), "revision", "leaderboard");
        only_for(c, raw.snapshot.as_ref().map(at), "snapshot", "leaderboard");
    }
}

/// A `csv` or `parquet` source: the file exists and has the columns named.
fn table_source(c: &mut Checker, raw: &RawScoreSource) -> Option<TableSource> {
    let spanned = raw.csv.as_ref().or(raw.parquet.as_ref())?;
    let path = c.existing_path(spanned, "scores file");
    let model_column = raw
        .model_column
        .as_ref()
        .map_or_else(|| "model".to_string(), |s| s.value.clone());
    let columns: Vec<(String, String)> = raw
        .columns
        .as_ref()
        .map(|m| m.value.clone().into_iter().collect())
        .unwrap_or_default();
    let t = TableSource {
        path,
        model_column,
        revision_column: raw.revision_column.as_ref().map(|r| r.value.clone()),
        columns,
    };
    if t.path.is_file() {
        match crate::scores::table_source::header(&t.path) {
            Ok(header) => check_table_columns(c, raw, at(spanned), &t, &header),
            Err(e) => c.problem(at(spanned), e.to_string()),
        }
    }
    Some(t)
}

/// The model, revision and score columns a table source names are in its
/// `header`.
fn check_table_columns(
    c: &mut Checker,
    raw: &RawScoreSource,
    file_pos: Option<Pos>,
    t: &TableSource,
    header: &[String],
) {
    let mut need: Vec<(&str, Option<Pos>, &str)> = vec![(
        t.model_column.as_str(),
        raw.model_column.as_ref().map_or(file_pos, at),
        "model ",
    )];
    if let Some(r) = &raw.revision_column {
        need.push((r.value.as_str(), at(r), "revision "));
    }
    let cols_pos = raw.columns.as_ref().and_then(at);
    need.extend(
        t.columns
            .iter()
            .map(|(_, from)| (from.as_str(), cols_pos, "")),
    );
    for (column, pos, role) in need {
        if !header.iter().any(|h| h == column) {
            let hint = suggest::hint(column, header.iter().map(String::as_str));
            c.problem(
                pos,
                format!(
                    "scores file has no {role}column `{column}` (columns: {}){hint}",
                    header.join(", ")
                ),
            );
        }
    }
}

/// An `lm_eval` source: its result files exist and parse.
fn lm_eval_source(c: &mut Checker, raw: &RawScoreSource) -> Option<LmEvalSource> {
    let spanned = raw.lm_eval.as_ref()?;
    let l = LmEvalSource {
        path: c.existing_path(spanned, "lm-eval results"),
    };
    if l.path.exists() {
        if let Err(e) = l.files().and_then(|_| l.rows()) {
            c.problem(at(spanned), e.to_string());
        }
    }
    Some(l)
}

/// A `leaderboard` source: a leaderboard lossy knows, with its dataset,
/// revision and snapshot use.
fn leaderboard_source(c: &mut Checker, raw: &RawScoreSource) -> Option<LeaderboardSource> {
    let spanned = raw.leaderboard.as_ref()?;
    if spanned.value != "open-llm-v2" {
        c.problem(
            at(spanned),
            format!(
                "unknown leaderboard `{}`; lossy knows `open-llm-v2` (the Open LLM Leaderboard v2)",
                spanned.value
            ),
        );
    }
    let d = LeaderboardSource::default();
    Some(LeaderboardSource {
        dataset: raw.dataset.as_ref().map_or(d.dataset, |s| s.value.clone()),
        revision: raw
            .revision
            .as_ref()
            .map_or(d.revision, |s| s.value.clone()),
        snapshot: raw.snapshot.as_ref().map_or(d.snapshot, |s| s.value),
    })
}

/// Every score column the sources provide (for checking `fit.target`).
pub(super) fn available_columns(settings: &ScoreSettings) -> Vec<String> {
    settings
        .sources
        .iter()
        .flat_map(|s| s.column_names().unwrap_or_default())
        .collect()
}
