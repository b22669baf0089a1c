//! Small multiples: a figure title, a grid of charts that share one legend, and the legend
//! in the first empty cell of the grid, or in a column right of it when no cell is free.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::Chart;
use super::geometry::Rect;
use super::legend::{self, Entry};
use super::output::{DrawResult, Figure};
use super::style::{Style, TextKind};

/// Charts in a grid, filled row by row (`None` leaves a cell empty).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panels {
    pub title: String,
    pub charts: Vec<Option<Chart>>,
    /// Columns of the grid (at least 1).
    pub columns: usize,
    /// Height of a panel over its width.
    pub aspect: f64,
    pub legend: Vec<Entry>,
}

/// Logical width of the legend column, as a share of the figure.
const LEGEND_SHARE: f64 = 0.2;
/// Height of the title strip, logical units.
const TITLE_UNITS: f64 = 30.0;

impl Panels {
    fn rows(&self) -> usize {
        self.charts.len().div_ceil(self.columns.max(1)).max(1)
    }
    /// The first empty cell, where the legend goes.
    fn free_cell(&self) -> Option<usize> {
        let cells = self.rows() * self.columns.max(1);
        (0..cells).find(|&i| self.charts.get(i).is_none_or(Option::is_none))
    }
    fn legend_share(&self) -> f64 {
        if self.legend.is_empty() || self.free_cell().is_some() {
            0.0
        } else {
            LEGEND_SHARE
        }
    }
}

impl Figure for Panels {
    fn height_units(&self, width_units: f64) -> f64 {
        let grid_w = width_units * (1.0 - self.legend_share());
        let panel_w = grid_w / self.columns.max(1) as f64;
        TITLE_UNITS + self.rows() as f64 * panel_w * self.aspect
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
        let metrics = if self.legend.is_empty() {
            None
        } else {
            Some(legend::measure(root, &self.legend, st)?)
        };
        let free = self.free_cell();
        let side_w = match (metrics, free) {
            (Some(m), None) => (m.width + st.px(12.0)).min(0.4 * w as f64),
            _ => 0.0,
        };
        let (grid, side) = body.split_horizontally(w as i32 - side_w.round() as i32);
        let cols = self.columns.max(1);
        let cells = grid.split_evenly((self.rows(), cols));
        for (chart, cell) in self.charts.iter().zip(&cells) {
            if let Some(chart) = chart {
                chart.draw_in(root, cell, st)?;
            }
        }
        if let Some(m) = metrics {
            let (sx, sy) = match free.and_then(|i| cells.get(i)) {
                Some(cell) => {
                    let (x, y) = cell.get_base_pixel();
                    (x + st.ipx(16.0), y + st.ipx(16.0))
                }
                None => side.get_base_pixel(),
            };
            // Keep the legend on the page even when it is wider than its cell.
            let x = (sx as f64 + st.px(4.0))
                .min(w as f64 - m.width - st.px(2.0))
                .max(0.0);
            let rect = Rect::new(x, sy as f64 + st.px(12.0), m.width, m.height);
            legend::draw(root, &rect, &self.legend, &m, st, st.marker_radius(0))?;
        }
        Ok(())
    }
}
