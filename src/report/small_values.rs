//! How `report.md` prints the values of columns whose values are far below the
//! other features' (preference information: 10⁻⁶ to 10⁻³ bits-normalised): with
//! three significant digits in scientific notation below 10⁻³, where a fixed
//! number of decimals would print them all as zero. Every other column keeps its
//! fixed decimals.

/// Whether `column` holds preference information (`preference`, `preference_null`,
/// a named set's `preference_<name>`, their `_lo`/`_hi` intervals).
pub(super) fn is_small_valued(column: &str) -> bool {
    column == "preference" || column.starts_with("preference_")
}

/// `x` as a table cell of `column`: with `decimals` decimals, except that a
/// small-valued column's non-zero values below 10⁻³ in magnitude get three
/// significant digits (`3.14e-5`). Not finite: a dash.
pub(super) fn cell(column: &str, x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        "–".into()
    } else if is_small_valued(column) && x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.2e}")
    } else {
        format!("{x:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_values_keep_three_significant_digits() {
        assert_eq!(cell("preference", 3.14159e-5, 4), "3.14e-5");
        assert_eq!(cell("preference_null", -2.0e-6, 4), "-2.00e-6");
        assert_eq!(cell("preference_tulu", 0.0123, 3), "0.012");
        assert_eq!(cell("preference", 0.0, 4), "0.0000");
        assert_eq!(cell("preference", f64::NAN, 4), "–");
    }

    #[test]
    fn other_columns_keep_their_decimals() {
        assert_eq!(cell("optimality", 3.14159e-5, 4), "0.0000");
        assert_eq!(cell("complexity_2", 0.41234, 3), "0.412");
        assert!(!is_small_valued("preferences"));
    }
}
