//! Small multiples: a figure title, a grid of charts that share one legend, and the legend
//! drawn once, outside the panels: in the first empty cell of the grid when it fits there,
//! else in a column right of the grid when it is narrow, else in a strip below the grid
//! (wrapped and in columns). Each row is as tall as its tallest chart needs (see
//! `chart_draw`), so the figure's height follows from its width.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::Chart;
use super::geometry::Rect;
use super::legend::{self, Entry, Metrics};
use super::output::{DrawResult, Figure};
use super::style::{Style, Target, TextKind};

/// Charts in a grid, filled row by row (`None` leaves a cell empty).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panels {
    pub title: String,
    pub charts: Vec<Option<Chart>>,
    /// Columns of the grid (at least 1).
    pub columns: usize,
    /// Height of a panel's plot over its width.
    pub aspect: f64,
    pub legend: Vec<Entry>,
}

/// Height of the title strip, logical units.
const TITLE_UNITS: f64 = 30.0;
/// A legend beside the grid takes at most this share of the width; a wider one goes below.
const SIDE_SHARE: f64 = 0.25;

/// Where the shared legend goes: in an empty cell of the grid, in a column right of the
/// grid, or in a strip below it (wrapped, in columns).
enum LegendAt {
    None,
    Cell(usize),
    Right(Metrics),
    Below(Vec<Entry>, Metrics),
}

impl Panels {
    fn rows(&self) -> usize {
        self.charts.len().div_ceil(self.columns.max(1)).max(1)
    }
    /// The first empty cell.
    fn free_cell(&self) -> Option<usize> {
        let cells = self.rows() * self.columns.max(1);
        (0..cells).find(|&i| self.charts.get(i).is_none_or(Option::is_none))
    }

    /// The legend's place for a figure `w` device pixels wide, whose grid cells are
    /// `cell_w` wide and whose rows are `row_h` tall.
    fn legend_at(&self, w: f64, row_h: &[f64], st: &Style) -> LegendAt {
        if self.legend.is_empty() {
            return LegendAt::None;
        }
        let m = legend::metrics(&self.legend, st, None);
        let inset = st.px(16.0);
        if let Some(i) = self.free_cell() {
            let cell_w = w / self.columns.max(1) as f64;
            let h = row_h.get(i / self.columns.max(1)).copied().unwrap_or(0.0);
            if m.width + inset <= cell_w && m.height + 2.0 * inset <= h {
                return LegendAt::Cell(i);
            }
        }
        if m.width + st.px(12.0) <= SIDE_SHARE * w {
            return LegendAt::Right(m);
        }
        let room = w - 2.0 * st.px(8.0);
        let entries = legend::wrapped(&self.legend, st, room);
        let m = legend::metrics(&entries, st, Some(room));
        LegendAt::Below(entries, m)
    }

    /// Logical height of each row of panels when the grid is `grid_w` logical units wide.
    fn row_heights(&self, grid_w: f64) -> Vec<f64> {
        let cols = self.columns.max(1);
        let panel_w = grid_w / cols as f64;
        (0..self.rows())
            .map(|r| {
                self.charts
                    .iter()
                    .skip(r * cols)
                    .take(cols)
                    .flatten()
                    .map(|c| c.height_with(panel_w, self.aspect))
                    .fold(panel_w * self.aspect * 0.5, f64::max)
            })
            .collect()
    }

    /// The grid's width, its rows' heights and the legend's place, in device pixels, for a
    /// figure `w` logical units wide drawn at `st`'s scale.
    fn layout(&self, w: f64, st: &Style) -> (f64, Vec<f64>, LegendAt) {
        let unit = Style::new(1.0, Target::Raster);
        let rows = self.row_heights(w);
        let at = self.legend_at(w, &rows, &unit);
        let grid_w = match &at {
            LegendAt::Right(m) => w - m.width - unit.px(12.0),
            _ => w,
        };
        let rows = if grid_w < w {
            self.row_heights(grid_w)
        } else {
            rows
        };
        let rows = rows.iter().map(|h| st.px(*h).round()).collect();
        let at = match at {
            LegendAt::Right(_) => LegendAt::Right(legend::metrics(&self.legend, st, None)),
            LegendAt::Below(..) => self.legend_at_below(st.px(w), st),
            other => other,
        };
        (st.px(grid_w).round(), rows, at)
    }

    fn legend_at_below(&self, w: f64, st: &Style) -> LegendAt {
        let room = w - 2.0 * st.px(8.0);
        let entries = legend::wrapped(&self.legend, st, room);
        let m = legend::metrics(&entries, st, Some(room));
        LegendAt::Below(entries, m)
    }
}

impl Figure for Panels {
    fn height_units(&self, width_units: f64) -> f64 {
        let unit = Style::new(1.0, Target::Raster);
        let (_, rows, at) = self.layout(width_units, &unit);
        let below = match at {
            LegendAt::Below(_, m) => m.height + unit.px(16.0),
            _ => 0.0,
        };
        TITLE_UNITS + rows.iter().sum::<f64>() + below
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, st: &Style) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let title_h = st.ipx(TITLE_UNITS);
        let (top, body) = root.split_vertically(title_h);
        if !self.title.trim().is_empty() {
            let font = st
                .font(TextKind::Title)
                .pos(Pos::new(HPos::Center, VPos::Center));
            top.draw(&Text::new(
                self.title.clone(),
                (w as i32 / 2, title_h / 2),
                font,
            ))?;
        }
        let (grid_w, rows, at) = self.layout(w as f64 / st.scale, st);
        let cells = self.draw_grid(root, &body, grid_w, &rows, st)?;
        self.draw_legend(root, &cells, at, st)
    }
}

impl Panels {
    /// Draws the charts in a grid `grid_w` pixels wide with rows `rows` tall; returns the
    /// cells.
    fn draw_grid<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
        grid_w: f64,
        rows: &[f64],
        st: &Style,
    ) -> Result<Vec<DrawingArea<DB, Shift>>, Box<dyn std::error::Error>>
    where
        DB::ErrorType: 'static,
    {
        let cols = self.columns.max(1);
        let (grid, _) = body.split_horizontally(grid_w as i32);
        let col_w = grid_w / cols as f64;
        let xs: Vec<i32> = (1..cols)
            .map(|c| (c as f64 * col_w).round() as i32)
            .collect();
        let mut ys: Vec<i32> = Vec::new();
        let mut y = 0.0;
        for h in &rows[..rows.len().saturating_sub(1)] {
            y += h;
            ys.push(y.round() as i32);
        }
        let (_, grid_h) = grid.dim_in_pixel();
        let total: f64 = rows.iter().sum();
        let (grid, _) = grid.split_vertically((total.round() as i32).min(grid_h as i32));
        let cells = grid.split_by_breakpoints(xs, ys);
        for (chart, cell) in self.charts.iter().zip(&cells) {
            if let Some(chart) = chart {
                chart.draw_in(root, cell, st)?;
            }
        }
        Ok(cells)
    }

    fn draw_legend<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        cells: &[DrawingArea<DB, Shift>],
        at: LegendAt,
        st: &Style,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, _) = root.dim_in_pixel();
        let last = cells.last().map(|c| {
            let (_, y) = c.get_base_pixel();
            y as f64 + c.dim_in_pixel().1 as f64
        });
        let (rect, entries, m) = match at {
            LegendAt::None => return Ok(()),
            LegendAt::Cell(i) => {
                let m = legend::metrics(&self.legend, st, None);
                let (x, y) = cells.get(i).map_or((0, 0), |c| c.get_base_pixel());
                let rect = Rect::new(
                    x as f64 + st.px(16.0),
                    y as f64 + st.px(16.0),
                    m.width,
                    m.height,
                );
                (rect, self.legend.clone(), m)
            }
            LegendAt::Right(m) => {
                let (_, y) = cells.first().map_or((0, 0), |c| c.get_base_pixel());
                let x = w as f64 - m.width - st.px(4.0);
                (
                    Rect::new(x, y as f64 + st.px(12.0), m.width, m.height),
                    self.legend.clone(),
                    m,
                )
            }
            LegendAt::Below(entries, m) => {
                let x = (w as f64 - m.width) / 2.0;
                let y = last.unwrap_or(0.0) + st.px(8.0);
                (Rect::new(x.max(0.0), y, m.width, m.height), entries, m)
            }
        };
        legend::draw(root, &rect, &entries, &m, st, st.marker_radius(0))?;
        Ok(())
    }
}
