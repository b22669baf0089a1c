//! `report.md`: a GitHub-readable summary of a run: what was studied, the
//! model-level features, the fit, and the figures.

use super::md_parts::{self as part, num};
use super::Manifest;
use crate::fit::FitResult;
use crate::table::{Table, Values};
use std::fmt::Write;

/// Renders the report, showing each figure's PNG (else its first file):
/// one section after another.
pub fn render(
    manifest: &Manifest,
    features: &Table,
    fit: Option<&FitResult>,
    figures: &[super::WrittenFigure],
) -> String {
    let checkpoints = super::summary_md::is_checkpoint_study(&manifest.study);
    let mut md = head(manifest, features);
    md.push_str(&features_section(features, fit, checkpoints));
    md.push_str(&agreement_section(manifest, features));
    if let Some(f) = fit {
        md.push_str(&fit_section(f, checkpoints));
    }
    md.push_str(&score_sources(manifest));
    md.push_str(&figures_section(figures));
    md.push_str(&files_section(fit));
    md
}

/// The title, the description, what was probed (or where the features were
/// read from), and what the features mean.
fn head(manifest: &Manifest, features: &Table) -> String {
    let study = &manifest.study;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", study.name);
    if let Some(d) = &study.description {
        let _ = writeln!(md, "{}\n", d.trim());
    }
    let e = manifest.estimators.first();
    match (&manifest.corpus, &manifest.features_from) {
        (Some(corpus), _) => {
            let _ = writeln!(
                md,
                "lossy {} probed {} model(s) with {} documents (corpus sha256 `{}`), n-gram orders {:?}, m = {} reference points, calibration `{}`, seed {}.\n",
                manifest.lossy_version,
                manifest.models.len(),
                corpus.documents,
                &corpus.sha256[..12],
                study.features.orders,
                study.features.estimator.bins,
                e.map_or("-", |e| e.calibration.name()),
                study.features.estimator.seed,
            );
        }
        (None, Some(from)) => {
            let _ = writeln!(
                md,
                "lossy {} read the features of {} model(s) from `{}` (sha256 `{}`), computed by an earlier run; no model was run here. That run's manifest records how they were computed.\n",
                manifest.lossy_version,
                features.rows(),
                from.path.display(),
                &from.sha256[..12],
            );
        }
        (None, None) => {}
    }
    md.push_str(
        "Features are means over transformer layers 1..L (embeddings excluded). Complexity is I(X;Z) for the input \
         n-gram, expressivity I(Y;Z) for the output n-gram, optimality their ratio (1 on the information-bottleneck \
         bound). Entropies are soft-entropy efficiencies in [0, 1], normalised by ln m; they are relative measures, \
         comparable only at the same reference points and token budget. `_null` columns are the same estimate with \
         labels shuffled: the estimator's bias at this budget.\n\n",
    );
    md
}

/// "## Features": every numeric column, or for a checkpoint study a summary
/// first and a compact table (issue #18).
fn features_section(features: &Table, fit: Option<&FitResult>, checkpoints: bool) -> String {
    if checkpoints {
        return super::summary_md::summary(fit) + &super::summary_md::features(features, fit);
    }
    let mut md = String::from("## Features\n\n");
    md.push_str(&markdown_table(
        features,
        &["model", "family", "layers", "d", "rows"],
    ));
    md
}

/// "## Fit": the method, the predictor sets, the equation, the held-out
/// predictions, the correlations, the baselines and the ranking.
fn fit_section(f: &FitResult, checkpoints: bool) -> String {
    let mut md = fit_method(f);
    // Superseded by "Against the baselines" when the study has baselines.
    if f.baseline_comparison.is_none() {
        md.push_str(&nested_comparisons(f));
    }
    md.push_str(&equation(f));
    if checkpoints && f.models.len() > super::summary_md::MAX_ROWS {
        md.push_str(&super::summary_md::largest_errors(f));
    } else {
        md.push_str(&part::header(&["model", "actual", "predicted (held out)"]));
        for ((m, a), p) in f.models.iter().zip(&f.actual).zip(&f.predicted) {
            let _ = writeln!(md, "| {m} | {a:.4} | {p:.4} |");
        }
    }
    md.push_str(&correlations(f));
    md.push_str(&super::baselines_md::fit_sections(f));
    // Checkpoint studies show at most this many ranked models (all are in `ranking.csv`).
    let shown = if checkpoints {
        super::summary_md::MAX_ROWS
    } else {
        usize::MAX
    };
    md.push_str(&ranking(f, shown));
    md
}

/// The fit's method, target, predictors and validation, in one sentence.
fn fit_method(f: &FitResult) -> String {
    let s = &f.settings;
    let validation = match s.validation {
        crate::fit::Validation::LeaveOneOut => "leave-one-out".to_string(),
        crate::fit::Validation::LeaveOneFamilyOut => "leave-one-family-out".to_string(),
        crate::fit::Validation::KFold => format!("{}-fold (seed {})", s.folds, s.seed),
        crate::fit::Validation::HoldOut => match &s.hold_out {
            Some(h) => format!(
                "holding out the models with `{}` ≥ {}",
                h.column, h.threshold
            ),
            None => "hold-out".to_string(),
        },
    };
    format!(
        "\n## Fit\n\n{} of `{}` on {}, validated by {validation} ({} folds over {} models with a score).\n\n",
        match s.method {
            crate::fit::Method::Ols => "OLS",
            crate::fit::Method::RidgeCv => "Ridge (penalty by inner leave-one-out)",
        },
        s.target,
        part::code_list(&s.features, ", "),
        f.folds,
        f.models.len(),
    )
}

/// Held-out metrics of the nested predictor sets, under the fit's folds.
fn nested_comparisons(f: &FitResult) -> String {
    let mut md = String::from("Does the feature add to the baselines? Held-out predictions of each predictor set, same folds and method:\n\n");
    md.push_str(&part::header(&["predictors", "R²", "MAE", "Spearman ρ"]));
    for c in &f.comparisons {
        let mark = if c.features == f.settings.features {
            " (the fit)"
        } else {
            ""
        };
        let label = format!("{}{mark}", part::predictors(&c.features));
        part::metrics_row(&mut md, &label, c.features.is_empty(), &c.metrics);
    }
    md.push('\n');
    md
}

/// The equation fitted on every scored model, and the models left out.
fn equation(f: &FitResult) -> String {
    let s = &f.settings;
    let coefs: Vec<String> = s
        .features
        .iter()
        .zip(&f.coefficients)
        .map(|(n, c)| format!("{c:.4} × {n}"))
        .collect();
    let mut md = format!(
        "Fitted on all of them: {} = {:.4} + {}.\n\n",
        s.target,
        f.intercept,
        coefs.join(" + ")
    );
    if !f.skipped.is_empty() {
        let _ = writeln!(
            md,
            "Left out (a feature is missing): {}.\n",
            f.skipped.join(", ")
        );
    }
    md
}

/// "### Correlations with the target": Spearman and partial Spearman with
/// raw and Benjamini–Hochberg adjusted p-values.
fn correlations(f: &FitResult) -> String {
    let s = &f.settings;
    let mut md = format!(
        "\n### Correlations with `{}`\n\nSpearman ρ over models with a score, and partial Spearman controlling for {}; p-values from {} seeded permutations (partial: Freedman–Lane).\n\n",
        s.target,
        match &s.control {
            Some(c) => part::code_list(c, ", "),
            None => "log10 parameters".to_string(),
        },
        s.permutations
    );
    md.push_str(&part::header(&[
        "feature",
        "n",
        "ρ",
        "p",
        "p (BH)",
        "partial ρ",
        "p",
        "p (BH)",
    ]));
    for c in &f.correlations {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            c.feature,
            c.n,
            num(c.spearman, 3),
            num(c.p_value, 3),
            num(c.p_adjusted, 3),
            num(c.partial_spearman, 3),
            num(c.partial_p_value, 3),
            num(c.partial_p_adjusted, 3)
        );
    }
    let tests = f
        .correlations
        .iter()
        .flat_map(|c| [c.p_value, c.partial_p_value])
        .filter(|p| p.is_finite())
        .count();
    let _ = writeln!(
        md,
        "\nMultiple comparisons: p (BH) is the {} adjusted p-value (false discovery rate) over the {tests} p-values of this table (`p_value_bh`, `partial_p_value_bh` in `correlations.csv`, beside the raw ones); the correlations figure stars cells with BH-adjusted p < 0.05 over all its cells.",
        crate::fit::multitest::METHOD
    );
    md
}

/// "### Models without a score, ranked": the first `shown` of the ranking
/// with their intervals (and withheld scores, with how well they were
/// predicted).
fn ranking(f: &FitResult, shown: usize) -> String {
    if f.ranking.is_empty() {
        return String::new();
    }
    let s = &f.settings;
    let mut md = String::new();
    let _ = writeln!(md, "\n### Models without a score, ranked\n\nPredicted `{}` ({} first) with {:.0}% jackknife+ intervals (coverage ≥ {:.0}% in theory).\n", s.target, if s.higher_is_better { "highest" } else { "lowest" }, s.interval.get() * 100.0, (2.0 * s.interval.get() - 1.0) * 100.0);
    let mut cols = vec!["rank", "model", "predicted", "interval"];
    if f.withheld.is_some() {
        cols.push("withheld score");
    }
    md.push_str(&part::header(&cols));
    for (i, r) in f.ranking.iter().enumerate().take(shown) {
        let _ = write!(
            md,
            "| {} | {} | {:.4} | [{}, {}] |",
            i + 1,
            r.model,
            r.predicted,
            num(r.lower, 4),
            num(r.upper, 4),
        );
        if f.withheld.is_some() {
            let _ = write!(md, " {} |", num(r.actual, 4));
        }
        md.push('\n');
    }
    md.push_str(&more_in_ranking(f.ranking.len(), shown));
    if let Some(w) = &f.withheld {
        let _ = writeln!(
            md,
            "\nAgainst the scores withheld from the fit (models marked `unreleased`), over {} model(s): Spearman ρ = {}, MAE = {}, {} of {} inside their interval.",
            w.n,
            num(w.spearman, 3),
            num(w.mae, 4),
            w.covered,
            w.n
        );
        md.push_str(&super::baselines_md::withheld_by_predictors(f));
    }
    md
}

/// "## Score sources": each source's rows, matches and what did not match.
fn score_sources(manifest: &Manifest) -> String {
    if manifest.scores.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n## Score sources\n\n");
    md.push_str(&part::header(&[
        "source",
        "rows",
        "matched",
        "no row for",
        "unused rows",
        "duplicates",
    ]));
    for s in &manifest.scores {
        let origin = match &s.provenance {
            crate::scores::Provenance::Leaderboard(
                crate::scores::leaderboard::Origin::Snapshot { file, .. },
            ) => format!(" (shipped snapshot `{file}`)"),
            crate::scores::Provenance::Leaderboard(crate::scores::leaderboard::Origin::Hub {
                sha,
                ..
            }) => format!(" (hub commit `{}`)", &sha[..12.min(sha.len())]),
            crate::scores::Provenance::Files { .. } => String::new(),
        };
        let matched = manifest
            .models
            .len()
            .saturating_sub(s.unmatched_models.len());
        let dups: Vec<String> = s
            .duplicates
            .iter()
            .map(|(m, n)| format!("{m} ×{n}"))
            .collect();
        let _ = writeln!(
            md,
            "| {}{origin} | {} | {matched} | {} | {} | {} |",
            s.source,
            s.rows,
            list_or_dash(&s.unmatched_models),
            s.unused_rows,
            list_or_dash(&dups)
        );
    }
    md
}

/// "## Figures": each figure's PNG (else its first file), its data and files.
fn figures_section(figures: &[super::WrittenFigure]) -> String {
    if figures.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n## Figures\n\n");
    for f in figures {
        if let Some(path) = f
            .files
            .iter()
            .find(|p| p.ends_with(".png"))
            .or(f.files.first())
        {
            let _ = writeln!(
                md,
                "![{}]({path})\n\n<sub>Data: {}. Files: {}.</sub>\n",
                f.title,
                f.source,
                f.files.join(", ")
            );
        }
    }
    md
}

/// "## Files": what each file of the report folder holds.
fn files_section(fit: Option<&FitResult>) -> String {
    let mut md = String::from("\n## Files\n\n");
    md.push_str("- `features.csv`/`.parquet`: one row per model (means over blocks)\n");
    md.push_str("- `layers.csv`/`.parquet`: one row per model and layer (0 = embeddings)\n");
    if let Some(f) = fit {
        md.push_str("- `predictions.csv`: held-out predictions of the fit\n");
        md.push_str("- `correlations.csv`: Spearman and partial Spearman of every feature with the target, raw and Benjamini–Hochberg adjusted p-values\n");
        if !f.ranking.is_empty() {
            md.push_str("- `ranking.csv`: predictions with intervals for models without a score (and their withheld scores, for `unreleased` models)\n");
        }
        md.push_str("- `fit.json`: every choice and number of the fit\n");
    }
    md.push_str("- `report.json`: every number above, and the layer table, in one file\n");
    md.push_str("- `figures/`: every figure as listed above, in each requested format\n");
    md.push_str("- `manifest.json`: resolved study, lossy version and commit, hashes, seeds, timings, host\n");
    md
}

/// "Across probe sets": Spearman ρ between each feature's columns on the
/// study's probe sets (empty for a study without probe sets).
fn agreement_section(manifest: &Manifest, features: &Table) -> String {
    let probes = &manifest.study.probes;
    if probes.is_empty() {
        return String::new();
    }
    let mut suffixes = vec![String::new()];
    suffixes.extend(probes.iter().map(|p| p.suffix()));
    let rows = crate::fit::agreement::agreement(features, &suffixes);
    let mut s = String::from(
        "\n## Across probe sets\n\nDo the probe sets rank the models alike? Spearman ρ between a feature's values on two probe sets, over the models with both:\n\n",
    );
    if rows.is_empty() {
        s.push_str("No feature was measured on two probe sets.\n");
        return s;
    }
    s.push_str(&part::header(&[
        "feature",
        "probe set A",
        "probe set B",
        "models",
        "Spearman ρ",
    ]));
    for a in rows {
        let _ = writeln!(
            s,
            "| {} | `{}` | `{}` | {} | {} |",
            a.feature,
            a.a,
            a.b,
            a.n,
            num(a.spearman, 3)
        );
    }
    s
}

/// Every numeric column of `t`, and the text columns named in `keep_text`.
fn markdown_table(t: &Table, keep_text: &[&str]) -> String {
    let cols: Vec<_> = t
        .columns
        .iter()
        .filter(|c| keep_text.contains(&c.name.as_str()) || matches!(c.values, Values::F64(_)))
        .collect();
    let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
    let mut s = part::header(&names);
    for r in 0..t.rows() {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| match &c.values {
                Values::Str(v) => v[r].clone(),
                Values::Int(v) => v[r].to_string(),
                Values::F64(v) if v[r].is_finite() => super::small_values::cell(&c.name, v[r], 4),
                Values::F64(_) => "–".into(),
            })
            .collect();
        let _ = writeln!(s, "| {} |", cells.join(" | "));
    }
    s
}

/// A line saying how many ranked models the table left out, if any.
fn more_in_ranking(n: usize, shown: usize) -> String {
    if n > shown {
        format!("\nThe first {shown} of {n}; every model is in `ranking.csv`.\n")
    } else {
        String::new()
    }
}

/// The items joined by commas, or a dash for none.
fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "–".into()
    } else {
        items.join(", ")
    }
}
