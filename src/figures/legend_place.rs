//! Where a chart's legend goes: the plot corner that hides the fewest points; right of the
//! plot when every corner hides some and the legend is narrow; otherwise the y range grows
//! so that the legend sits above (or below) the data.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::tick_decimals;
use super::chart::{pixel, plot_rect, Cart, Chart, RefLine};
use super::geometry::Rect;
use super::legend;
use super::style::Style;

impl Chart {
    /// The best legend box inside the plot, and whether the legend should move right of
    /// the plot instead: when every corner would hide a point and the legend is narrow
    /// enough to leave most of the width to the plot.
    pub(crate) fn legend_spot<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Cart>,
        m: &legend::Metrics,
        st: &Style,
        body_w: u32,
    ) -> (Rect, bool, usize) {
        let r = st.marker_radius(self.points.len());
        let inset = st.px(8.0);
        let markers: Vec<Rect> = self
            .points
            .iter()
            .map(|p| {
                let (x, y) = pixel(chart, (p.x, p.y));
                Rect::around(x, y, r)
            })
            .collect();
        let samples = line_samples(chart, &self.lines);
        let (b, hidden) = legend::best_corner(
            &plot_rect(chart),
            (m.width, m.height),
            inset,
            &markers,
            &samples,
        );
        let outside_w = m.width + 2.0 * inset;
        (b, hidden > 0 && outside_w < 0.38 * body_w as f64, hidden)
    }

    /// When the legend would hide points and cannot move out, the same chart with its y
    /// range extended (up for a top corner, down for a bottom one) by the legend's height,
    /// so the legend sits beside the data instead of on it. Reference lines are re-clipped.
    pub(crate) fn grown_for_legend<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        cell: &DrawingArea<DB, Shift>,
        st: &Style,
    ) -> Result<Option<Chart>, DrawingAreaErrorKind<DB::ErrorType>> {
        if self.legend.is_empty() || self.y_categories.is_some() {
            return Ok(None);
        }
        let body = self.draw_title(cell, st, false)?;
        let decimals = (
            tick_decimals(self.x_range, self.x_ticks()),
            tick_decimals(self.y_range, self.y_ticks()),
        );
        let frame = self.frame(root, st, decimals)?;
        let m = legend::measure(root, &self.legend, st)?;
        let chart = self.build(&body, &frame)?;
        let (b, move_out, hidden) = self.legend_spot(&chart, &m, st, body.dim_in_pixel().0);
        if hidden == 0 || move_out {
            return Ok(None);
        }
        let plot = plot_rect(&chart);
        let frac = ((m.height + st.px(12.0)) / plot.height().max(1.0)).min(0.6);
        let (y0, y1) = self.y_range;
        let extra = (y1 - y0) * frac / (1.0 - frac);
        let mut grown = self.clone();
        if b.y0 < 0.5 * (plot.y0 + plot.y1) {
            grown.y_range.1 += extra;
        } else {
            grown.y_range.0 -= extra;
        }
        grown.lines = self
            .lines
            .iter()
            .filter_map(|l| {
                let (dx, dy) = (l.to.0 - l.from.0, l.to.1 - l.from.1);
                if dx.abs() < 1e-300 {
                    return Some(l.clone());
                }
                let slope = dy / dx;
                RefLine::clipped(
                    l.from.1 - slope * l.from.0,
                    slope,
                    grown.x_range,
                    grown.y_range,
                    l.colour,
                    l.dashed,
                )
            })
            .collect();
        Ok(Some(grown))
    }
}

/// Points along the reference lines every few pixels, to tell the legend where they run.
fn line_samples<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cart>,
    lines: &[RefLine],
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for l in lines {
        let (a, b) = (pixel(chart, l.from), pixel(chart, l.to));
        let n = (((b.0 - a.0).hypot(b.1 - a.1)) / 3.0).ceil().max(1.0) as usize;
        out.extend((0..=n).map(|i| {
            let t = i as f64 / n as f64;
            (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
        }));
    }
    out
}
