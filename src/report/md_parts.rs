//! Markdown pieces the report's sections share: numbers (a dash for a value
//! that is not finite), p-values, lists of column names, table headers and
//! the held-out metrics row. A leaf: the section modules (`markdown`,
//! `baselines_md`, `summary_md`) import it, it imports none of them.

use crate::fit::validate::Metrics;
use std::fmt::Write;

/// A number with `p` decimals, or a dash when it is not finite.
pub fn num(x: f64, p: usize) -> String {
    if x.is_finite() {
        format!("{x:.p$}")
    } else {
        "–".into()
    }
}

/// A p-value with 3 decimals, or `< 0.001` below that.
pub fn p_value(p: f64) -> String {
    if p.is_finite() && p < 0.0005 {
        "< 0.001".into()
    } else {
        num(p, 3)
    }
}

/// Names in backticks, joined by `sep`.
pub fn code_list(names: &[String], sep: &str) -> String {
    names
        .iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(sep)
}

/// A predictor set: its names joined by ` + `, or `intercept only`.
pub fn predictors(names: &[String]) -> String {
    if names.is_empty() {
        return "intercept only".into();
    }
    code_list(names, " + ")
}

/// A table's header row and rule, each ending in a newline.
pub fn header(cols: &[&str]) -> String {
    format!("| {} |\n|{}\n", cols.join(" | "), "---|".repeat(cols.len()))
}

/// `| label | R² | MAE | Spearman ρ |` of held-out predictions: an
/// intercept-only set has no ρ (its held-out means anti-correlate with the
/// held-out values by construction).
pub fn metrics_row(md: &mut String, label: &str, intercept_only: bool, m: &Metrics) {
    let rho = if intercept_only {
        "–".to_string()
    } else {
        num(m.spearman, 4)
    };
    let _ = writeln!(
        md,
        "| {label} | {} | {} | {rho} |",
        num(m.r2, 4),
        num(m.mae, 4)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lists_and_headers() {
        assert_eq!(num(0.123456, 3), "0.123");
        assert_eq!(num(f64::NAN, 3), "–");
        assert_eq!(p_value(0.0001), "< 0.001");
        assert_eq!(p_value(0.0123), "0.012");
        assert_eq!(predictors(&[]), "intercept only");
        assert_eq!(predictors(&["a".into(), "b".into()]), "`a` + `b`");
        assert_eq!(header(&["x", "y"]), "| x | y |\n|---|---|\n");
    }
}
