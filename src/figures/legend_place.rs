//! Where a chart's legend goes: inside the plot, in a corner where it fits and covers no
//! data (no marker, and no point of a reference line, path or interval); otherwise outside the
//! plot, right of it when the legend is narrow, else below it. The axes never grow to make
//! room for a legend: they span the data.

use plotters::prelude::*;

use super::chart::{Chart, RefLine};
use super::geometry::{pixel, plot_rect, Cart, Rect};
use super::legend;
use super::style::Style;

/// Where the legend of a chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Spot {
    Inside(Rect),
    Right,
    Below,
}

impl Chart {
    /// The legend's place: a corner of the plot that hides no data, else right of the plot
    /// when the legend is narrow enough to leave most of the width to the plot, else below.
    pub(crate) fn legend_spot<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Cart>,
        m: &legend::Metrics,
        st: &Style,
        body_w: u32,
    ) -> Spot {
        let r = st.marker_radius(self.points.len());
        let inset = st.px(8.0);
        let markers: Vec<Rect> = self
            .points
            .iter()
            .map(|p| {
                let (x, y) = pixel(chart, (p.x, p.y));
                // A marker's outline and a little air.
                Rect::around(x, y, r * p.size + st.px(2.0))
            })
            .collect();
        let samples = self.data_samples(chart, st);
        let (b, hidden, crossed) = legend::best_corner(
            &plot_rect(chart),
            (m.width, m.height),
            inset,
            &markers,
            &samples,
        );
        let plot = plot_rect(chart);
        let within = b.x0 >= plot.x0 && b.x1 <= plot.x1 && b.y0 >= plot.y0 && b.y1 <= plot.y1;
        if within && hidden == 0 && crossed == 0 {
            Spot::Inside(b)
        } else if m.width + 2.0 * inset < 0.38 * body_w as f64 {
            Spot::Right
        } else {
            Spot::Below
        }
    }

    /// Points every few pixels along everything drawn as a line: reference lines, paths,
    /// intervals, and the edges of bands.
    fn data_samples<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Cart>,
        st: &Style,
    ) -> Vec<(f64, f64)> {
        let mut segments: Vec<((f64, f64), (f64, f64))> =
            self.lines.iter().map(|l| (l.from, l.to)).collect();
        for p in &self.paths {
            for w in p.points.windows(2) {
                if let [Some(a), Some(b)] = w {
                    segments.push((*a, *b));
                }
            }
        }
        for i in &self.intervals {
            if i.from.0.is_finite() && i.to.0.is_finite() {
                segments.push((i.from, i.to));
            }
        }
        let pad = st.px(2.0);
        let refs: Vec<RefLine> = segments
            .into_iter()
            .map(|(from, to)| RefLine {
                from,
                to,
                colour: super::style::INK,
                dashed: false,
            })
            .collect();
        let mut out = line_samples(chart, &refs);
        // Thickness: the samples stand for a line a few pixels wide.
        let thick: Vec<(f64, f64)> = out
            .iter()
            .flat_map(|&(x, y)| [(x, y - pad), (x, y + pad), (x - pad, y), (x + pad, y)])
            .collect();
        out.extend(thick);
        out
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
