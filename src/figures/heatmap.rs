//! The correlation heatmap: features (rows) against correlations with each score (columns:
//! Spearman ρ and partial ρ per benchmark), every value printed in its cell with a star when
//! its Benjamini–Hochberg adjusted p < 0.05 (over every cell), on a diverging
//! blue–white–vermillion scale from −1 to 1, with the scale and a note drawn below. Missing
//! values are grey cells marked "–".
//!
//! Headers keep the figure's text size; the layout is chosen per figure: a benchmark's name
//! spans its columns, written across when it fits, rotated 90° when it does not, and
//! replaced by a short key ("S1", explained under the scale) when even that would be too
//! tall. When the cells of every benchmark side by side would be too narrow for their
//! values, the benchmarks are wrapped into blocks stacked one under another.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use super::colormap::{diverging, needs_light_text};
use super::error::FigureError;
use super::output::{build_and_write, DrawResult, Figure};
use super::style::{Style, Target, TextKind, FRAME, INK};
use super::text_fit::wrap;
use super::FigureOptions;

/// Correlations to show: `values[r][c]` for row `rows[r]` and column `columns[c]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorrelationGrid {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<f64>>,
    /// Permutation p-values, same shape (NaN: none).
    pub p_values: Vec<Vec<f64>>,
    /// Adjusted p-values (same shape) that decide the stars; empty: the raw ones do.
    pub p_adjusted: Vec<Vec<f64>>,
    /// Per column, the score it belongs to; neighbouring columns of one score share one
    /// header. Empty: every column is headed by its own name.
    pub groups: Vec<String>,
    /// Per column, the statistic (e.g. "ρ", "partial ρ"), written under the group header.
    pub stats: Vec<String>,
}

/// What the star means (the adjusted p-values by default).
pub(crate) const NOTE: &str = "* Benjamini–Hochberg adjusted p < 0.05";
const NOTE_RAW: &str = "* permutation p < 0.05";
const MISSING: RGBColor = RGBColor(215, 215, 215);
const TITLE_UNITS: f64 = 30.0;
const ROW_UNITS: f64 = 22.0;
/// Space above a block's headers and between header rows.
const GAP_UNITS: f64 = 6.0;
/// Rotated headers taller than this are replaced by a key.
const MAX_ROTATED_UNITS: f64 = 150.0;
const SCALE_UNITS: f64 = 76.0;
const KEY_LINE_UNITS: f64 = 17.0;

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

/// Text width and height in logical units (DejaVu Sans metrics at the logical size).
fn measure(text: &str, kind: TextKind) -> (f64, f64) {
    let font = Style::new(1.0, Target::Raster).font(kind);
    match font.font.box_size(text) {
        Ok((w, h)) => (w as f64, h as f64),
        Err(_) => (text.chars().count() as f64 * 8.0, 15.0),
    }
}

/// The lines under the scale (see [`Plan`]) for a figure `width` logical units wide.
fn notes(g: &CorrelationGrid, key: &[String], width: f64) -> Vec<String> {
    let note = if g.p_adjusted.is_empty() {
        NOTE_RAW
    } else {
        NOTE
    };
    let m = |t: &str| measure(t, TextKind::Annotation).0;
    let room = width - 10.0;
    let mut lines = wrap(&format!("Spearman ρ; {note}"), room, &m);
    let indent = "    ";
    for k in key {
        for (i, line) in wrap(k, room - m(indent), &m).into_iter().enumerate() {
            lines.push(if i == 0 {
                line
            } else {
                format!("{indent}{line}")
            });
        }
    }
    lines
}

/// How a header row is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Header {
    Across,
    Rotated,
    Key,
}

/// The heatmap's layout in logical units.
#[derive(Debug, Clone)]
struct Plan {
    /// Column spans of the groups: (first column, number of columns, header text).
    groups: Vec<(usize, usize, String)>,
    /// Groups per block.
    per_block: usize,
    labels_w: f64,
    col_w: f64,
    group_header: Header,
    group_h: f64,
    stat_h: f64,
    stats_rotated: bool,
    /// Lines under the scale: what the cells and stars mean, then the "S1 = name" key
    /// when headers are keyed, each wrapped to the figure's width.
    notes: Vec<String>,
}

impl Plan {
    fn new(g: &CorrelationGrid, width: f64) -> Plan {
        let n = g.columns.len();
        let grouped = g.groups.len() == n && g.stats.len() == n;
        let mut groups: Vec<(usize, usize, String)> = Vec::new();
        for c in 0..n {
            let name = if grouped { &g.groups[c] } else { &g.columns[c] };
            match groups.last_mut() {
                Some((_, k, last)) if grouped && last == name => *k += 1,
                _ => groups.push((c, 1, name.clone())),
            }
        }
        let label_w = g
            .rows
            .iter()
            .map(|r| measure(r, TextKind::TickLabel).0)
            .fold(0.0, f64::max);
        let labels_w = label_w + 14.0;
        let avail = (width - labels_w - 10.0).max(40.0);
        let widest = groups.iter().map(|(_, k, _)| *k).max().unwrap_or(1);
        let value_w = measure("\u{2212}0.00*", TextKind::Annotation).0 + 8.0;
        let fit = ((avail / (widest as f64 * value_w)).floor() as usize).max(1);
        let blocks = groups.len().div_ceil(fit).max(1);
        let per_block = groups.len().div_ceil(blocks).max(1);
        let cols = groups
            .chunks(per_block)
            .map(|b| b.iter().map(|(_, k, _)| *k).sum::<usize>())
            .max()
            .unwrap_or(1);
        let col_w = (avail / cols as f64).min(120.0);
        let line_h = measure("Xy", TextKind::Legend).1;
        let fits_across = groups
            .iter()
            .all(|(_, k, name)| measure(name, TextKind::Legend).0 <= *k as f64 * col_w - 6.0);
        let longest = groups
            .iter()
            .map(|(_, _, name)| measure(name, TextKind::Legend).0)
            .fold(0.0, f64::max);
        let (group_header, group_h, key) = if fits_across {
            (Header::Across, line_h, vec![])
        } else if longest <= MAX_ROTATED_UNITS && line_h <= col_w * widest as f64 {
            (Header::Rotated, longest, vec![])
        } else {
            let key: Vec<String> = groups
                .iter()
                .enumerate()
                .map(|(i, (_, _, name))| format!("S{} = {name}", i + 1))
                .collect();
            (Header::Key, line_h, key)
        };
        let stat_names: Vec<&String> = if grouped {
            g.stats.iter().collect()
        } else {
            vec![]
        };
        let stat_w = stat_names
            .iter()
            .map(|s| measure(s, TextKind::Annotation).0)
            .fold(0.0, f64::max);
        let stats_rotated = stat_w > col_w - 4.0;
        let stat_h = if stat_names.is_empty() {
            0.0
        } else if stats_rotated {
            stat_w
        } else {
            measure("Xy", TextKind::Annotation).1
        };
        let notes = notes(g, &key, width);
        Plan {
            groups,
            per_block,
            labels_w,
            col_w,
            group_header,
            group_h,
            stat_h,
            stats_rotated,
            notes,
        }
    }

    fn header_h(&self) -> f64 {
        let stats = if self.stat_h > 0.0 {
            self.stat_h + GAP_UNITS
        } else {
            0.0
        };
        2.0 * GAP_UNITS + self.group_h + stats
    }

    fn blocks(&self) -> usize {
        self.groups.len().div_ceil(self.per_block).max(1)
    }

    fn block_h(&self, rows: usize) -> f64 {
        self.header_h() + ROW_UNITS * rows as f64
    }

    fn height(&self, rows: usize) -> f64 {
        TITLE_UNITS
            + self.blocks() as f64 * (self.block_h(rows) + GAP_UNITS)
            + SCALE_UNITS
            + KEY_LINE_UNITS * self.notes.len().saturating_sub(1) as f64
    }

    /// The header of group `i`: its name, or its key.
    fn group_text(&self, i: usize) -> String {
        match self.group_header {
            Header::Key => format!("S{}", i + 1),
            _ => self.groups[i].2.clone(),
        }
    }
}

impl Heatmap {
    fn stars_from(&self) -> &Vec<Vec<f64>> {
        if self.grid.p_adjusted.is_empty() {
            &self.grid.p_values
        } else {
            &self.grid.p_adjusted
        }
    }
}

fn at(m: &[Vec<f64>], r: usize, c: usize) -> f64 {
    m.get(r)
        .and_then(|row| row.get(c))
        .copied()
        .unwrap_or(f64::NAN)
}

impl Figure for Heatmap {
    fn height_units(&self, width_units: f64) -> f64 {
        Plan::new(&self.grid, width_units).height(self.grid.rows.len())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, st: &Style) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let w = w as f64;
        let plan = Plan::new(&self.grid, w / st.scale);
        root.draw(&Text::new(
            self.title.clone(),
            ((w / 2.0) as i32, st.ipx(TITLE_UNITS / 2.0)),
            st.font(TextKind::Title)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        let mut y0 = st.px(TITLE_UNITS);
        let mut grid_x0 = st.px(plan.labels_w);
        let mut grid_w: f64 = 0.0;
        let mut first_group = 0;
        for block in plan.groups.chunks(plan.per_block) {
            let (x0, bw) = self.draw_block(root, st, &plan, (first_group, block.len()), y0)?;
            grid_x0 = grid_x0.min(x0);
            grid_w = grid_w.max(bw);
            first_group += block.len();
            y0 += st.px(plan.block_h(self.grid.rows.len()) + GAP_UNITS);
        }
        self.draw_scale(root, st, (grid_x0, y0), grid_w, &plan)
    }
}

impl Heatmap {
    /// Draws the `len` groups from `first` (one block of the grid) with its top at `y0`;
    /// returns the block's left edge and width.
    fn draw_block<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        plan: &Plan,
        (first, len): (usize, usize),
        y0: f64,
    ) -> Result<(f64, f64), Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let g = &self.grid;
        let (w, _) = root.dim_in_pixel();
        let block = &plan.groups[first..first + len];
        let (col_w, row_h) = (st.px(plan.col_w), st.px(ROW_UNITS));
        let ncols: usize = block.iter().map(|(_, k, _)| *k).sum();
        let avail = w as f64 - st.px(plan.labels_w) - st.px(10.0);
        let x0 = st.px(plan.labels_w) + ((avail - col_w * ncols as f64) / 2.0).max(0.0);
        let top = y0 + st.px(plan.header_h());
        let stats_y = top - st.px(GAP_UNITS);
        let mut c_in = 0;
        for (b, (first_col, k, _)) in block.iter().enumerate() {
            let gx = x0 + c_in as f64 * col_w;
            self.draw_group_header(root, st, plan, first + b, (gx, *k as f64 * col_w), stats_y)?;
            for c in *first_col..*first_col + *k {
                let x = x0 + c_in as f64 * col_w;
                if plan.stat_h > 0.0 {
                    let font = st.font(TextKind::Annotation);
                    let font = if plan.stats_rotated {
                        font.transform(FontTransform::Rotate270)
                            .pos(Pos::new(HPos::Left, VPos::Center))
                    } else {
                        font.pos(Pos::new(HPos::Center, VPos::Bottom))
                    };
                    let at = ip(x + 0.5 * col_w, stats_y);
                    root.draw(&Text::new(g.stats[c].clone(), at, font))?;
                }
                self.draw_column(root, st, c, x, top, (col_w, row_h), self.stars_from())?;
                c_in += 1;
            }
        }
        let font = st
            .font(TextKind::TickLabel)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (r, name) in g.rows.iter().enumerate() {
            let at = ip(x0 - st.px(8.0), top + (r as f64 + 0.5) * row_h);
            root.draw(&Text::new(name.clone(), at, font.clone()))?;
        }
        Ok((x0, col_w * ncols as f64))
    }

    /// The header of group `i`, over the columns from `gx`, `span` wide, with a rule under
    /// it when it spans several columns; the statistics' row is at `stats_y`.
    fn draw_group_header<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        plan: &Plan,
        i: usize,
        (gx, span): (f64, f64),
        stats_y: f64,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let group_y = stats_y
            - if plan.stat_h > 0.0 {
                st.px(plan.stat_h + GAP_UNITS)
            } else {
                0.0
            };
        let font = st.font(TextKind::Legend);
        let font = match plan.group_header {
            Header::Rotated => font
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Left, VPos::Center)),
            _ => font.pos(Pos::new(HPos::Center, VPos::Bottom)),
        };
        root.draw(&Text::new(
            plan.group_text(i),
            ip(gx + span / 2.0, group_y),
            font,
        ))?;
        if span > plan.col_w * st.scale * 1.5 {
            let rule_y = group_y + st.px(GAP_UNITS / 2.0);
            root.draw(&PathElement::new(
                vec![
                    ip(gx + st.px(3.0), rule_y),
                    ip(gx + span - st.px(3.0), rule_y),
                ],
                FRAME.stroke_width(st.thin_width()),
            ))?;
        }
        Ok(())
    }
}

/// A device point from pixel coordinates.
fn ip(x: f64, y: f64) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

impl Heatmap {
    /// The cells of column `c`, left edge `x`, first row at `top`.
    #[allow(clippy::too_many_arguments)]
    fn draw_column<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        c: usize,
        x: f64,
        top: f64,
        (col_w, row_h): (f64, f64),
        stars: &[Vec<f64>],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let ip = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
        for r in 0..self.grid.rows.len() {
            let y = top + r as f64 * row_h;
            let v = at(&self.grid.values, r, c);
            let colour = if v.is_finite() { diverging(v) } else { MISSING };
            let (a, b) = (ip(x, y), ip(x + col_w, y + row_h));
            root.draw(&Rectangle::new([a, b], colour.filled()))?;
            root.draw(&Rectangle::new([a, b], WHITE.stroke_width(st.thin_width())))?;
            let text_colour = if v.is_finite() && needs_light_text(colour) {
                WHITE
            } else {
                INK
            };
            let f = st
                .font(TextKind::Annotation)
                .color(&text_colour)
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(
                cell_text(v, at(stars, r, c)),
                ip(x + col_w / 2.0, y + row_h / 2.0),
                f,
            ))?;
        }
        Ok(())
    }

    /// The colour scale from −1 to 1 at `(x0, y)`, its ticks, the note and the key.
    fn draw_scale<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        (x0, y): (f64, f64),
        grid_w: f64,
        plan: &Plan,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let ip = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
        let bar_y = y + st.px(6.0);
        let bar_w = grid_w.min(st.px(300.0)).max(st.px(120.0));
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
        let font = |h| st.font(TextKind::Annotation).pos(Pos::new(h, VPos::Top));
        for (v, text, h) in [
            (-1.0, "\u{2212}1", HPos::Left),
            (0.0, "0", HPos::Center),
            (1.0, "1", HPos::Right),
        ] {
            let x = x0 + bar_w * (v + 1.0) / 2.0;
            root.draw(&Text::new(
                text.to_string(),
                ip(x, bar_y + bar_h + st.px(3.0)),
                font(h),
            ))?;
        }
        // Notes start under the grid, moved left as far as needed to stay on the page.
        let (w, _) = root.dim_in_pixel();
        let left = |text: &str| {
            let tw = st.px(measure(text, TextKind::Annotation).0);
            x0.min(w as f64 - tw - st.px(4.0)).max(st.px(4.0))
        };
        // One left edge for every line, so they read as one block.
        let x = plan.notes.iter().map(|k| left(k)).fold(x0, f64::min);
        let mut line_y = bar_y + bar_h + st.px(22.0);
        for (i, k) in plan.notes.iter().enumerate() {
            if i > 0 {
                line_y += st.px(KEY_LINE_UNITS);
            }
            root.draw(&Text::new(k.clone(), ip(x, line_y), font(HPos::Left)))?;
        }
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
    build_and_write(out_stem, opts, |_| {
        (!grid.rows.is_empty() && !grid.columns.is_empty()).then(|| Heatmap {
            grid: grid.clone(),
            title: title.to_string(),
        })
    })
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
            p_adjusted: vec![],
            groups: vec![],
            stats: vec![],
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
            p_adjusted: vec![],
            groups: vec![],
            stats: vec![],
        };
        assert!(matches!(
            correlation_heatmap(&empty, "t", &dir.join("h"), &opts),
            Err(FigureError::Empty { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
