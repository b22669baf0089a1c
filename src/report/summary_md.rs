//! The readable head of `report.md` for checkpoint studies (a model with a `step`): a
//! summary that states the question, the answer with its uncertainty and the baselines
//! it is compared with; a compact features table with the columns a reader needs (the
//! rest are in `features.csv`/`.parquet`); and tables of more than [`MAX_ROWS`] rows
//! summarised per family. Every number is one of `report.json`'s (the fit's metrics,
//! comparisons, correlations, ranking and withheld check, and the features table).
//! Studies without steps keep the report they had.

use std::fmt::Write;

use super::md_parts::num;

use crate::fit::FitResult;
use crate::study::Study;
use crate::table::{Table, Values};

/// Tables longer than this are summarised in the report, in full in the files.
pub const MAX_ROWS: usize = 30;

/// Whether `study` is a checkpoint study: one of its models has a training step.
pub fn is_checkpoint_study(study: &Study) -> bool {
    study.models.iter().any(|m| m.step.is_some())
}

/// "## Summary": the question, the held-out answer against the baselines, the
/// correlation, and the ranking of the models without a score.
pub fn summary(fit: Option<&FitResult>) -> String {
    let Some(f) = fit else {
        return String::new();
    };
    let s = &f.settings;
    let names = |fs: &[String]| -> String {
        if fs.is_empty() {
            "the intercept alone".to_string()
        } else {
            super::md_parts::code_list(fs, " + ")
        }
    };
    let mut md = String::from("## Summary\n\n");
    let _ = writeln!(
        md,
        "**Question.** Does {} predict `{}` for models it was not fitted on?\n",
        names(&s.features),
        s.target
    );
    let _ = writeln!(
        md,
        "**Answer.** Held out, the fit reaches R² = {} and MAE = {} over {} models; the same folds give:",
        num(f.metrics.r2, 2),
        num(f.metrics.mae, 3),
        f.models.len()
    );
    let rivals: Vec<_> = f
        .comparisons
        .iter()
        .filter(|c| c.features != s.features)
        .collect();
    for c in &rivals {
        let _ = writeln!(
            md,
            "- {}: R² = {}, MAE = {}",
            names(&c.features),
            num(c.metrics.r2, 2),
            num(c.metrics.mae, 3)
        );
    }
    let best = rivals
        .iter()
        .filter(|c| c.metrics.mae.is_finite())
        .min_by(|a, b| a.metrics.mae.total_cmp(&b.metrics.mae));
    if let Some(b) = best {
        let verdict = if b.metrics.mae < f.metrics.mae {
            format!(
                "{} predicts better (lower MAE) than the fit: the feature does not beat this baseline.",
                capitalised(&names(&b.features))
            )
        } else {
            format!(
                "The fit has the lowest MAE of these; the closest is {}.",
                names(&b.features)
            )
        };
        let _ = writeln!(md, "\n{verdict}");
    }
    if f.metrics.r2.is_finite() && f.metrics.r2 <= 0.0 {
        md.push_str("\nA held-out R² at or below 0 means the fit predicts no better than the mean of the scores it was fitted on.\n");
    }
    md.push_str(&correlation_line(f));
    md.push_str(&ranking_line(f));
    md.push('\n');
    md
}

/// `s` with its first letter upper case.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Spearman ρ of the fit's first feature with the target, with its adjusted p-value.
fn correlation_line(f: &FitResult) -> String {
    let Some(c) = f
        .settings
        .features
        .first()
        .and_then(|x| f.correlations.iter().find(|c| &c.feature == x))
    else {
        return String::new();
    };
    format!(
        "\nOver the {} models with a score, Spearman ρ(`{}`, `{}`) = {} (permutation p = {}, Benjamini–Hochberg adjusted {}).\n",
        c.n,
        c.feature,
        f.settings.target,
        num(c.spearman, 2),
        num(c.p_value, 3),
        num(c.p_adjusted, 3)
    )
}

/// The top of the ranking, and how it compares with withheld scores.
fn ranking_line(f: &FitResult) -> String {
    let Some(top) = f.ranking.first() else {
        return String::new();
    };
    let mut md = format!(
        "\n**Ranking.** Of {} models without a score, `{}` ranks first: predicted {} in [{}, {}] ({:.0}% jackknife+).",
        f.ranking.len(),
        top.model,
        num(top.predicted, 3),
        num(top.lower, 3),
        num(top.upper, 3),
        100.0 * f.settings.interval.get()
    );
    if let Some(w) = &f.withheld {
        let _ = write!(
            md,
            " Against their withheld scores: Spearman ρ = {}, {} of {} inside their interval.",
            num(w.spearman, 2),
            w.covered,
            w.n
        );
    }
    md.push('\n');
    md
}

/// The held-out predictions with the ten largest errors, for a fit over more than
/// [`MAX_ROWS`] models (all are in `predictions.csv`).
pub fn largest_errors(f: &FitResult) -> String {
    let mut rows: Vec<usize> = (0..f.models.len()).collect();
    let err = |i: usize| (f.predicted[i] - f.actual[i]).abs();
    rows.sort_by(|&a, &b| err(b).total_cmp(&err(a)));
    let mut md = format!(
        "{} held-out predictions; the ten with the largest errors (every one is in `predictions.csv`):\n\n",
        f.models.len()
    );
    md.push_str("| model | actual | predicted (held out) | error |\n|---|---|---|---|\n");
    for &i in rows.iter().take(10) {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            f.models[i],
            num(f.actual[i], 4),
            num(f.predicted[i], 4),
            num(f.predicted[i] - f.actual[i], 4)
        );
    }
    md
}

/// The columns of the compact table: identity, size, the three features with the
/// optimality interval, preference information when the study measured it, and any
/// other feature the fit uses.
fn compact_columns(features: &Table, fit: Option<&FitResult>) -> Vec<String> {
    let mut cols: Vec<String> = [
        "model",
        "family",
        "params",
        "complexity",
        "expressivity",
        "optimality",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    cols.extend(
        features
            .columns
            .iter()
            .map(|k| &k.name)
            .filter(|c| super::small_values::is_small_valued(c))
            .filter(|c| !c.contains("_null") && !c.ends_with("_lo") && !c.ends_with("_hi"))
            .cloned(),
    );
    if let Some(f) = fit {
        for x in &f.settings.features {
            if !cols.contains(x) {
                cols.push(x.clone());
            }
        }
    }
    cols.retain(|c| features.columns.iter().any(|k| &k.name == c));
    cols
}

fn cell(t: &Table, name: &str, r: usize) -> String {
    let Some(c) = t.columns.iter().find(|c| c.name == name) else {
        return "–".into();
    };
    match &c.values {
        Values::Str(v) => v[r].clone(),
        Values::Int(v) => v[r].to_string(),
        Values::F64(v) if name == "params" && v[r].is_finite() => format!("{:.3e}", v[r]),
        Values::F64(v) => super::small_values::cell(name, v[r], 3),
    }
}

fn f64_at(t: &Table, name: &str, r: usize) -> f64 {
    match t.columns.iter().find(|c| c.name == name).map(|c| &c.values) {
        Some(Values::F64(v)) => v[r],
        Some(Values::Int(v)) => v[r] as f64,
        _ => f64::NAN,
    }
}

/// "## Features" for a checkpoint study: the compact table, or for more than
/// [`MAX_ROWS`] models, one row per family; the full tables are in the files.
pub fn features(features: &Table, fit: Option<&FitResult>) -> String {
    let cols = compact_columns(features, fit);
    let has_interval = features.columns.iter().any(|c| c.name == "optimality_lo");
    let mut md = String::from("## Features\n\n");
    if features.rows() > MAX_ROWS {
        md.push_str(&by_family(features, &cols));
    } else {
        let mut head: Vec<String> = cols.clone();
        if has_interval {
            head.push("optimality interval".into());
        }
        let _ = writeln!(
            md,
            "| {} |\n|{}",
            head.join(" | "),
            "---|".repeat(head.len())
        );
        for r in 0..features.rows() {
            let mut cells: Vec<String> = cols.iter().map(|c| cell(features, c, r)).collect();
            if has_interval {
                let (lo, hi) = (
                    f64_at(features, "optimality_lo", r),
                    f64_at(features, "optimality_hi", r),
                );
                cells.push(format!("[{}, {}]", num(lo, 3), num(hi, 3)));
            }
            let _ = writeln!(md, "| {} |", cells.join(" | "));
        }
    }
    let _ = writeln!(
        md,
        "\nEvery column ({} in all: layers, width, token counts, n-gram orders, null estimates, bootstrap intervals) is in `features.csv` and `features.parquet`; per-layer values in `layers.csv`.",
        features.columns.len()
    );
    md
}

/// One row per family: its models, and the range of each numeric column.
fn by_family(t: &Table, cols: &[String]) -> String {
    let families: Vec<String> = (0..t.rows()).map(|r| cell(t, "family", r)).collect();
    let mut order: Vec<&String> = Vec::new();
    for f in &families {
        if !order.contains(&f) {
            order.push(f);
        }
    }
    let numeric: Vec<&String> = cols
        .iter()
        .filter(|c| !matches!(c.as_str(), "model" | "family" | "params"))
        .collect();
    let mut md = format!(
        "{} models, more than {MAX_ROWS}: one row per family, each feature's range over its models.\n\n",
        t.rows()
    );
    let head: Vec<String> = ["family".to_string(), "models".into()]
        .into_iter()
        .chain(numeric.iter().map(|c| format!("{c} (min–max)")))
        .collect();
    let _ = writeln!(
        md,
        "| {} |\n|{}",
        head.join(" | "),
        "---|".repeat(head.len())
    );
    for fam in order {
        let rows: Vec<usize> = (0..t.rows()).filter(|&r| &families[r] == fam).collect();
        let mut cells = vec![fam.clone(), rows.len().to_string()];
        for c in &numeric {
            let v: Vec<f64> = rows
                .iter()
                .map(|&r| f64_at(t, c, r))
                .filter(|v| v.is_finite())
                .collect();
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let at = |x| super::small_values::cell(c, x, 3);
            cells.push(format!("{}–{}", at(lo), at(hi)));
        }
        let _ = writeln!(md, "| {} |", cells.join(" | "));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    fn table(n: usize) -> Table {
        let s = |f: &dyn Fn(usize) -> String| Values::Str((0..n).map(f).collect());
        let x = |f: &dyn Fn(usize) -> f64| Values::F64((0..n).map(f).collect());
        let col = |name: &str, values| Column {
            name: name.into(),
            values,
        };
        Table {
            columns: vec![
                col("model", s(&|i| format!("m-{i}"))),
                col("family", s(&|i| format!("f{}", i % 2))),
                col("params", x(&|i| 1e6 * (i + 1) as f64)),
                col("complexity", x(&|i| 0.1 * i as f64)),
                col("expressivity", x(&|_| 0.2)),
                col("optimality", x(&|i| 0.5 + 0.01 * i as f64)),
                col("optimality_lo", x(&|i| 0.4 + 0.01 * i as f64)),
                col("optimality_hi", x(&|i| 0.6 + 0.01 * i as f64)),
                col("entropy", x(&|_| 0.9)),
            ],
        }
    }

    #[test]
    fn a_short_table_is_compact_with_the_interval() {
        let md = features(&table(3), None);
        assert!(md.contains("| model | family | params | complexity | expressivity | optimality | optimality interval |"), "{md}");
        assert!(
            md.contains("| m-2 | f0 | 3.000e6 | 0.200 | 0.200 | 0.520 | [0.420, 0.620] |"),
            "{md}"
        );
        assert!(!md.contains("entropy |"), "{md}");
        assert!(md.contains("9 in all"));
    }

    #[test]
    fn a_long_table_is_summarised_per_family() {
        let md = features(&table(31), None);
        assert!(md.contains("31 models, more than 30"), "{md}");
        // f0: models 0, 2, ..., 30 (16 of them), complexity 0.0 to 3.0.
        assert!(
            md.contains("| f0 | 16 | 0.000–3.000 | 0.200–0.200 | 0.500–0.800 |"),
            "{md}"
        );
        assert!(md.contains("| f1 | 15 | 0.100–2.900 |"), "{md}");
        assert!(!md.contains("m-5"));
    }
}
