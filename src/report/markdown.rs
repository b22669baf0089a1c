//! `report.md`: a GitHub-readable summary of a run: what was studied, the
//! model-level features, the fit, and the figures.

use super::Manifest;
use crate::fit::FitResult;
use crate::table::{Table, Values};
use std::fmt::Write;

/// Renders the report. `figures` are paths relative to the report folder.
pub fn render(manifest: &Manifest, features: &Table, fit: Option<&FitResult>, figures: &[(String, String)]) -> String {
    let study = &manifest.study;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", study.name);
    if let Some(d) = &study.description {
        let _ = writeln!(md, "{}\n", d.trim());
    }
    let e = manifest.estimators.first();
    let _ = writeln!(
        md,
        "lossy {} probed {} model(s) with {} documents (corpus sha256 `{}`), n-gram orders {:?}, m = {} reference points, calibration `{}`, seed {}.\n",
        manifest.lossy_version,
        manifest.models.len(),
        manifest.corpus.documents,
        &manifest.corpus.sha256[..12],
        study.features.orders,
        study.features.estimator.bins,
        e.map_or("-", |e| e.calibration.name()),
        study.features.estimator.seed,
    );
    md.push_str(
        "Features are means over transformer layers 1..L (embeddings excluded). Complexity is I(X;Z) for the input \
         n-gram, expressivity I(Y;Z) for the output n-gram, optimality their ratio (1 on the information-bottleneck \
         bound). Entropies are soft-entropy efficiencies in [0, 1], normalised by ln m; they are relative measures, \
         comparable only at the same reference points and token budget. `_null` columns are the same estimate with \
         labels shuffled: the estimator's bias at this budget.\n\n",
    );
    md.push_str("## Features\n\n");
    md.push_str(&markdown_table(features, &["model", "family", "layers", "d", "rows"]));
    if let Some(f) = fit {
        md.push_str("\n## Fit\n\n");
        let _ = writeln!(
            md,
            "OLS of `{}` on {} with leave-one-out validation over {} models: held-out R² = {:.4}, MAE = {:.4}.\n",
            f.target,
            f.features.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
            f.models.len(),
            f.r2,
            f.mae
        );
        let coefs: Vec<String> = f.features.iter().zip(&f.coefficients).map(|(n, c)| format!("{c:.4} × {n}")).collect();
        let _ = writeln!(md, "In-sample fit: {} = {:.4} + {}.\n", f.target, f.intercept, coefs.join(" + "));
        if !f.skipped.is_empty() {
            let _ = writeln!(md, "Left out (missing score or feature): {}.\n", f.skipped.join(", "));
        }
        md.push_str("| model | actual | predicted (held out) |\n|---|---|---|\n");
        for ((m, a), p) in f.models.iter().zip(&f.actual).zip(&f.predicted) {
            let _ = writeln!(md, "| {m} | {a:.4} | {p:.4} |");
        }
    }
    if let Some(s) = &manifest.scores {
        if !s.unmatched_models.is_empty() {
            let _ = writeln!(md, "\nModels with no score: {}.", s.unmatched_models.join(", "));
        }
    }
    if !figures.is_empty() {
        md.push_str("\n## Figures\n\n");
        for (title, path) in figures {
            let _ = writeln!(md, "![{title}]({path})\n");
        }
    }
    md.push_str("\n## Files\n\n");
    md.push_str("- `features.csv`/`.parquet`: one row per model (means over blocks)\n");
    md.push_str("- `layers.csv`/`.parquet`: one row per model and layer (0 = embeddings)\n");
    if fit.is_some() {
        md.push_str("- `predictions.csv`: held-out predictions of the fit\n");
    }
    md.push_str("- `manifest.json`: resolved study, versions, hashes, seeds, timings\n");
    md
}

fn markdown_table(t: &Table, keep_text: &[&str]) -> String {
    let cols: Vec<_> = t.columns.iter().filter(|c| keep_text.contains(&c.name.as_str()) || matches!(c.values, Values::F64(_))).collect();
    let mut s = format!("| {} |\n|{}\n", cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(" | "), "---|".repeat(cols.len()));
    for r in 0..t.rows() {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| match &c.values {
                Values::Str(v) => v[r].clone(),
                Values::Int(v) => v[r].to_string(),
                Values::F64(v) if v[r].is_finite() => format!("{:.4}", v[r]),
                Values::F64(_) => "–".into(),
            })
            .collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    s
}
