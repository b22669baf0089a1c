//! The report.md sections that put the features beside the baselines: the
//! comparison table with the held-out gain over the best baseline, the
//! within-family correlations, and how each predictor set ranks the
//! withheld models.

use super::md_parts::{self as part, num, p_value, predictors};
use crate::fit::baselines::BaselineReport;
use crate::fit::FitResult;
use std::fmt::Write;

/// "Against the baselines": every predictor set under the fit's folds, and
/// the gain of adding the features to the best baseline, in words.
fn comparison(md: &mut String, b: &BaselineReport) {
    let _ = writeln!(
        md,
        "\n### Against the baselines\n\nBaselines: {}. Held-out predictions of each predictor set under the fit's folds and method:\n",
        predictors(&b.baselines)
    );
    md.push_str(&part::header(&["predictors", "R²", "MAE", "Spearman ρ"]));
    for s in &b.sets {
        let label = predictors(&s.predictors);
        part::metrics_row(md, &label, s.predictors.is_empty(), &s.metrics);
    }
    let Some(g) = &b.gain else { return };
    let e = &g.abs_error_reduction;
    let _ = writeln!(
        md,
        "\nAdding the features to the best single baseline, `{}`: held-out R² {} → {}, MAE {} → {}; per held-out model the absolute error falls by {} on average ({:.0}% t interval [{}, {}], {} models; sign-flip p = {}).",
        g.baseline,
        num(g.r2_baseline, 4),
        num(g.r2_with_features, 4),
        num(g.mae_baseline, 4),
        num(g.mae_with_features, 4),
        num(e.mean, 4),
        e.level * 100.0,
        num(e.lower, 4),
        num(e.upper, 4),
        e.n,
        p_value(g.p_value)
    );
    let verdict = if e.lower > 0.0 {
        "The features add to it: the interval lies above 0."
    } else if e.upper < 0.0 {
        "The features make it worse: the interval lies below 0."
    } else {
        "The features do not clearly add to it: the interval includes 0."
    };
    let _ = writeln!(md, "{verdict}");
    let r2_of = |label: &str| {
        b.sets
            .iter()
            .find(|s| s.label == label)
            .map(|s| s.metrics.r2)
    };
    if let (Some(base), Some(feat)) = (r2_of(g.baseline.as_str()), r2_of("features")) {
        if base > feat {
            let _ = writeln!(
                md,
                "The baseline `{}` alone (R² {}) predicts better than the features alone (R² {}).",
                g.baseline,
                num(base, 4),
                num(feat, 4)
            );
        }
    }
}

/// "Within families": per family Spearman and the pooled within-family ρ.
fn within(md: &mut String, f: &FitResult) {
    if f.within_family.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "\n### Within families\n\nA pooled correlation can come from families that differ in both the feature and `{}`. Spearman ρ within each family (3 or more scored models), and ρ_w pooled within families (ranks centred per family; p from {} permutations within families):\n",
        f.settings.target, f.settings.permutations
    );
    md.push_str(&part::header(&["feature", "ρ_w", "p", "per family: ρ (n)"]));
    for w in &f.within_family {
        let per: Vec<String> = w
            .families
            .iter()
            .map(|c| format!("{} {} ({})", c.family, num(c.spearman, 3), c.n))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            w.feature,
            num(w.pooled.spearman, 3),
            p_value(w.pooled.p_value),
            per.join("; ")
        );
    }
}

/// The comparison and within-family sections (after the correlations).
pub fn fit_sections(f: &FitResult) -> String {
    let mut md = String::new();
    if let Some(b) = &f.baseline_comparison {
        comparison(&mut md, b);
    }
    within(&mut md, f);
    md
}

/// How each predictor set ranks the withheld models (after the ranking).
pub fn withheld_by_predictors(f: &FitResult) -> String {
    let Some(b) = &f.baseline_comparison else {
        return String::new();
    };
    let rows: Vec<_> = b
        .sets
        .iter()
        .filter_map(|s| Some((s, s.withheld.as_ref()?)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\nThe same withheld models ranked by each predictor set (fitted on every scored model):\n\n",
    );
    md.push_str(&part::header(&["predictors", "Spearman ρ", "MAE", "n"]));
    for (s, w) in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            predictors(&s.predictors),
            num(w.spearman, 3),
            num(w.mae, 4),
            w.n
        );
    }
    md
}
