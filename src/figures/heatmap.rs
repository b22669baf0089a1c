//! The correlation heatmap: features (rows) against correlations with each score (columns:
//! Spearman ρ and partial ρ per benchmark), every value printed in its cell with a star when
//! its permutation p < 0.05, on a diverging blue–white–vermillion scale from −1 to 1, with
//! the scale and a note drawn below. Missing values are grey cells marked "–".

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::colormap::{diverging, needs_light_text};
use super::error::FigureError;
use super::output::{figure_name, write_figure, DrawResult, Figure};
use super::style::{Style, TextKind, FRAME, INK};
use super::FigureOptions;

/// Correlations to show: `values[r][c]` for row `rows[r]` and column `columns[c]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorrelationGrid {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<f64>>,
    /// Permutation p-values, same shape (NaN: none).
    pub p_values: Vec<Vec<f64>>,
}

pub(crate) const NOTE: &str = "* permutation p < 0.05";
const MISSING: RGBColor = RGBColor(215, 215, 215);
const TITLE_UNITS: f64 = 30.0;
const ROW_UNITS: f64 = 22.0;
const HEADER_UNITS: f64 = 40.0;
const SCALE_UNITS: f64 = 80.0;

pub(crate) struct Heatmap {
    pub grid: CorrelationGrid,
    pub title: String,
}

/// The text of one cell.
pub(crate) fn cell_text(v: f64, p: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let s = format!("{v:.2}");
    let s = if s == "-0.00" {
        "0.00".to_string()
    } else {
        s.replace('-', "\u{2212}")
    };
    if p < 0.05 {
        format!("{s}*")
    } else {
        s
    }
}

impl Figure for Heatmap {
    fn height_units(&self, _width_units: f64) -> f64 {
        TITLE_UNITS + HEADER_UNITS + ROW_UNITS * self.grid.rows.len() as f64 + SCALE_UNITS
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, st: &Style) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let g = &self.grid;
        let (w, _) = root.dim_in_pixel();
        let w = w as f64;
        let centre = |h, v| Pos::new(h, v);
        let font = |k| st.font(k);
        root.draw(&Text::new(
            self.title.clone(),
            ((w / 2.0) as i32, st.ipx(TITLE_UNITS / 2.0)),
            font(TextKind::Title).pos(centre(HPos::Center, VPos::Center)),
        ))?;

        let mut label_w: f64 = 0.0;
        for r in &g.rows {
            label_w = label_w.max(st.measure(root, r, TextKind::TickLabel)?.0);
        }
        let labels_w = label_w + st.px(14.0);
        let avail = w - labels_w - st.px(10.0);
        let col_w = (avail / g.columns.len().max(1) as f64).min(st.px(120.0));
        // Centre the labels and the grid on the page.
        let x0 = labels_w + ((avail - col_w * g.columns.len() as f64) / 2.0).max(0.0);
        let top = st.px(TITLE_UNITS + HEADER_UNITS);
        let row_h = st.px(ROW_UNITS);
        let ip = |x: f64, y: f64| (x.round() as i32, y.round() as i32);

        for (c, name) in g.columns.iter().enumerate() {
            let cx = x0 + (c as f64 + 0.5) * col_w;
            let (tw, _) = st.measure(root, name, TextKind::Legend)?;
            let mut f = font(TextKind::Legend);
            if tw > col_w * 0.95 {
                let size = f.font.get_size() * (col_w * 0.95 / tw).max(0.6);
                f = f.font.resize(size).color(&INK);
            }
            root.draw(&Text::new(
                name.clone(),
                ip(cx, top - st.px(8.0)),
                f.pos(centre(HPos::Center, VPos::Bottom)),
            ))?;
        }
        for (r, name) in g.rows.iter().enumerate() {
            let y = top + r as f64 * row_h;
            root.draw(&Text::new(
                name.clone(),
                ip(x0 - st.px(8.0), y + row_h / 2.0),
                font(TextKind::TickLabel).pos(centre(HPos::Right, VPos::Center)),
            ))?;
            for c in 0..g.columns.len() {
                let v = g
                    .values
                    .get(r)
                    .and_then(|row| row.get(c))
                    .copied()
                    .unwrap_or(f64::NAN);
                let p = g
                    .p_values
                    .get(r)
                    .and_then(|row| row.get(c))
                    .copied()
                    .unwrap_or(f64::NAN);
                let colour = if v.is_finite() { diverging(v) } else { MISSING };
                let (a, b) = (
                    ip(x0 + c as f64 * col_w, y),
                    ip(x0 + (c + 1) as f64 * col_w, y + row_h),
                );
                root.draw(&Rectangle::new([a, b], colour.filled()))?;
                root.draw(&Rectangle::new([a, b], WHITE.stroke_width(st.thin_width())))?;
                let text_colour = if v.is_finite() && needs_light_text(colour) {
                    WHITE
                } else {
                    INK
                };
                let f = font(TextKind::Annotation)
                    .color(&text_colour)
                    .pos(centre(HPos::Center, VPos::Center));
                root.draw(&Text::new(
                    cell_text(v, p),
                    ip(x0 + (c as f64 + 0.5) * col_w, y + row_h / 2.0),
                    f,
                ))?;
            }
        }

        // The colour scale: a bar from −1 to 1 under the grid, with three ticks and the note.
        let bar_y = top + g.rows.len() as f64 * row_h + st.px(16.0);
        let bar_w = (g.columns.len() as f64 * col_w)
            .min(st.px(300.0))
            .max(st.px(120.0));
        let bar_h = st.px(9.0);
        let steps = 60;
        for k in 0..steps {
            let (xa, xb) = (
                x0 + bar_w * k as f64 / steps as f64,
                x0 + bar_w * (k + 1) as f64 / steps as f64,
            );
            let v = -1.0 + 2.0 * (k as f64 + 0.5) / steps as f64;
            root.draw(&Rectangle::new(
                [ip(xa, bar_y), ip(xb + 1.0, bar_y + bar_h)],
                diverging(v).filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [ip(x0, bar_y), ip(x0 + bar_w, bar_y + bar_h)],
            FRAME.stroke_width(st.thin_width()),
        ))?;
        for (v, text) in [(-1.0, "\u{2212}1"), (0.0, "0"), (1.0, "1")] {
            let x = x0 + bar_w * (v + 1.0) / 2.0;
            root.draw(&Text::new(
                text.to_string(),
                ip(x, bar_y + bar_h + st.px(3.0)),
                font(TextKind::Annotation).pos(centre(HPos::Center, VPos::Top)),
            ))?;
        }
        let note = format!("Spearman ρ; {NOTE}");
        root.draw(&Text::new(
            note,
            ip(x0, bar_y + bar_h + st.px(20.0)),
            font(TextKind::Annotation).pos(centre(HPos::Left, VPos::Top)),
        ))?;
        Ok(())
    }
}

/// Draws the correlation heatmap; [`FigureError::Empty`] when it has no row or column.
pub fn correlation_heatmap(
    grid: &CorrelationGrid,
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    if grid.rows.is_empty() || grid.columns.is_empty() {
        return Err(FigureError::Empty {
            name: figure_name(out_stem),
        });
    }
    write_figure(
        &Heatmap {
            grid: grid.clone(),
            title: title.to_string(),
        },
        out_stem,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::testing::{check_figure, check_figure_with};

    fn grid(rows: usize) -> CorrelationGrid {
        let columns = vec![
            "ρ loss".to_string(),
            "partial ρ loss".to_string(),
            "ρ perplexity".to_string(),
        ];
        CorrelationGrid {
            rows: (0..rows).map(|r| format!("feature_{r}")).collect(),
            values: (0..rows)
                .map(|r| (0..3).map(|c| ((r * 3 + c) as f64 * 0.37).sin()).collect())
                .collect(),
            p_values: (0..rows)
                .map(|r| {
                    (0..3)
                        .map(|c| if (r + c) % 2 == 0 { 0.01 } else { 0.3 })
                        .collect()
                })
                .collect(),
            columns,
        }
    }

    #[test]
    fn cells_print_values_and_stars() {
        assert_eq!(cell_text(0.8349, 0.01), "0.83*");
        assert_eq!(cell_text(-0.5, 0.2), "\u{2212}0.50");
        assert_eq!(cell_text(f64::NAN, 0.01), "–");
        let mut g = grid(12);
        g.values[2][1] = f64::NAN;
        let fig = Heatmap {
            grid: g,
            title: "Correlations".into(),
        };
        let first = cell_text(fig.grid.values[0][0], 0.01);
        check_figure(
            &fig,
            "heatmap-twelve",
            &[
                "Correlations",
                "feature_0",
                "feature_11",
                "ρ loss",
                "partial ρ loss",
                "–",
                &first,
            ],
        );
    }

    #[test]
    fn two_rows_single_column_and_empty() {
        let fig = Heatmap {
            grid: grid(2),
            title: "t".into(),
        };
        let opts = FigureOptions {
            width_in: 3.5,
            ..FigureOptions::default()
        };
        check_figure_with(&fig, "heatmap-two", &["feature_1"], &opts);
        let dir = crate::figures::output::testing::scratch_dir("heatmap-empty");
        let empty = CorrelationGrid {
            rows: vec![],
            columns: vec![],
            values: vec![],
            p_values: vec![],
        };
        assert!(matches!(
            correlation_heatmap(&empty, "t", &dir.join("h"), &opts),
            Err(FigureError::Empty { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
