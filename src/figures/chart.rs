//! The labelled chart most figures are, as data: a title, padded axes with readable ticks
//! (or category names on y), bands, reference lines, polylines, interval bars, one marker
//! per point, optional point labels and a legend; and the frame of label areas around its
//! plot. `chart_draw` lays it out on a canvas and draws it; a chart can also be drawn into
//! one cell of a larger figure (see `panels`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{tick_labels, X_TICKS, Y_TICKS};
use super::geometry::Cart;
use super::legend::Entry;
use super::markers::Marker;
use super::series::{Band, Interval, Polyline};
use super::style::{Style, TextKind as T};

/// One plotted point, with finite coordinates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChartPoint {
    pub x: f64,
    pub y: f64,
    pub marker: Marker,
    /// Text drawn beside the point, if any.
    pub label: Option<String>,
    /// Marker size relative to the usual one.
    pub size: f64,
}

/// A straight reference line, already clipped to the axis ranges.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RefLine {
    pub from: (f64, f64),
    pub to: (f64, f64),
    pub colour: RGBColor,
    pub dashed: bool,
}

impl RefLine {
    /// The part of `y = intercept + slope * x` inside the box, or `None` if it misses it.
    pub(crate) fn clipped(
        intercept: f64,
        slope: f64,
        (x0, x1): (f64, f64),
        (y0, y1): (f64, f64),
        colour: RGBColor,
        dashed: bool,
    ) -> Option<RefLine> {
        let (lo, hi) = if slope == 0.0 {
            if intercept < y0 || intercept > y1 {
                return None;
            }
            (x0, x1)
        } else {
            let a = (y0 - intercept) / slope;
            let b = (y1 - intercept) / slope;
            (x0.max(a.min(b)), x1.min(a.max(b)))
        };
        if lo.is_nan() || hi.is_nan() || hi <= lo {
            return None;
        }
        let at = |x: f64| (x, intercept + slope * x);
        Some(RefLine {
            from: at(lo),
            to: at(hi),
            colour,
            dashed,
        })
    }
}

/// Everything a chart shows; built by the figure functions, drawn by [`Figure::draw`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub points: Vec<ChartPoint>,
    pub lines: Vec<RefLine>,
    pub legend: Vec<Entry>,
    /// Filled bands, drawn first.
    pub bands: Vec<Band>,
    /// Polylines (with gaps), drawn over the reference lines.
    pub paths: Vec<Polyline>,
    /// Interval bars with caps, drawn under the markers.
    pub intervals: Vec<Interval>,
    /// Names for y = 0, 1, 2, ... instead of numeric y ticks.
    pub y_categories: Option<Vec<String>>,
    /// A panel of a larger figure: a smaller title.
    pub panel: bool,
    /// A line under the title (a panel's statistics), in annotation size.
    pub subtitle: String,
    /// The plot's height in logical units; `None`: in proportion to its width.
    pub plot_height: Option<f64>,
}

/// Space around the plot, in device pixels.
pub(crate) struct Frame {
    /// Room for the rotated y-axis title's ascenders and the x title's descenders.
    pub(crate) edge: i32,
    pub(crate) x_area: i32,
    pub(crate) y_area: i32,
    pub(crate) top: i32,
    pub(crate) right: i32,
    pub(crate) tick: i32,
}

impl Chart {
    /// At most this many x tick labels: fewer in a small panel.
    pub(crate) fn x_ticks(&self) -> usize {
        if self.panel {
            4
        } else {
            X_TICKS
        }
    }
    pub(crate) fn y_ticks(&self) -> usize {
        if self.panel {
            5
        } else {
            Y_TICKS
        }
    }
    /// Axis titles are set smaller in panels.
    pub(crate) fn axis_kind(&self) -> T {
        if self.panel {
            T::TickLabel
        } else {
            T::AxisLabel
        }
    }

    /// Label-area sizes that fit the tick labels (with `(xd, yd)` decimals) and axis titles.
    pub(crate) fn frame(&self, st: &Style, (xd, yd): (usize, usize)) -> Frame {
        let size = |t: &str, k: T| st.text_size(t, k);
        let y_labels = match &self.y_categories {
            Some(names) => names.clone(),
            None => tick_labels(self.y_range, self.y_ticks(), yd),
        };
        let y_tick_w = y_labels
            .iter()
            .map(|l| size(l, T::TickLabel).0)
            .fold(0.0, f64::max)
            .round() as i32;
        let last_x_w = match tick_labels(self.x_range, self.x_ticks(), xd).last() {
            Some(l) => size(l, T::TickLabel).0.round() as i32,
            None => 0,
        };
        let tick_h = size("0.9", T::TickLabel).1.round() as i32;
        let axis_h = size("Xy", self.axis_kind()).1.round() as i32;
        let (x_axis_h, y_axis_h) = (
            if self.x_label.is_empty() { 0 } else { axis_h },
            if self.y_label.is_empty() { 0 } else { axis_h },
        );
        let tick = st.ipx(5.0);
        let gap = st.ipx(8.0);
        Frame {
            edge: st.ipx(6.0),
            // plotters puts tick labels 2 * tick from the axis and the title at the far edge
            x_area: 2 * tick + tick_h + gap + x_axis_h + st.ipx(4.0),
            y_area: 2 * tick + y_tick_w + gap + y_axis_h + st.ipx(4.0),
            top: (tick_h / 2 + st.ipx(4.0)).max(st.ipx(8.0)),
            right: (last_x_w / 2 + st.ipx(6.0)).max(st.ipx(16.0)),
            tick,
        }
    }

    pub(crate) fn build<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        f: &Frame,
    ) -> Result<ChartContext<'a, DB, Cart>, DrawingAreaErrorKind<DB::ErrorType>> {
        ChartBuilder::on(area)
            .margin_top(f.top)
            .margin_right(f.right)
            .margin_left(f.edge)
            .margin_bottom(f.edge)
            .x_label_area_size(f.x_area)
            .y_label_area_size(f.y_area)
            .build_cartesian_2d(
                self.x_range.0..self.x_range.1,
                self.y_range.0..self.y_range.1,
            )
    }
}

/// A plotted point before layout: coordinates, group and label.
pub(crate) struct Plotted<'a> {
    pub x: f64,
    pub y: f64,
    pub group: Option<&'a str>,
    pub label: &'a str,
}

/// Chart points with one marker per group; names are drawn only when there
/// are at most `max_labelled` points. Returns the group markers too (for the
/// legend).
pub(crate) fn chart_points(
    points: &[Plotted],
    max_labelled: usize,
) -> (super::markers::Groups, Vec<ChartPoint>) {
    let groups = super::markers::assign(&points.iter().map(|p| p.group).collect::<Vec<_>>());
    let label_points = points.len() <= max_labelled;
    let chart = points
        .iter()
        .zip(&groups.of_point)
        .map(|(p, m)| ChartPoint {
            x: p.x,
            y: p.y,
            marker: *m,
            label: (label_points && !p.label.trim().is_empty()).then(|| p.label.to_string()),
            size: 1.0,
        })
        .collect();
    (groups, chart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::legend;
    use crate::figures::legend_place::Spot;
    use crate::figures::style::{INK, REFERENCE};

    fn chart_with(points: Vec<(f64, f64)>) -> Chart {
        let marker = Marker {
            colour: REFERENCE,
            shape: crate::figures::markers::Shape::Circle,
        };
        Chart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_range: (-0.5, 8.5),
            y_range: (-0.5, 6.5),
            points: points
                .into_iter()
                .map(|(x, y)| ChartPoint {
                    x,
                    y,
                    marker,
                    label: None,
                    size: 1.0,
                })
                .collect(),
            lines: Vec::new(),
            legend: vec![Entry {
                swatch: legend::Swatch::Marker(marker),
                text: "a family name".into(),
            }],
            ..Chart::default()
        }
    }

    /// Lays `chart` out on a 640x480 bitmap and returns where its legend would go.
    fn spot(chart: &Chart) -> Spot {
        assert!(crate::figures::style::ensure_fonts());
        let st = Style::new(1.0, crate::figures::style::Target::Raster);
        let mut buf = vec![0u8; 640 * 480 * 3];
        let root = BitMapBackend::with_buffer(&mut buf, (640, 480)).into_drawing_area();
        let frame = chart.frame(&st, (0, 0));
        let ctx = chart.build(&root, &frame).unwrap();
        let m = legend::metrics(&chart.legend, &st, None);
        chart.legend_spot(&ctx, &m, &st, 640)
    }

    #[test]
    fn legend_stays_inside_when_a_corner_is_free() {
        let Spot::Inside(b) = spot(&chart_with(vec![(0.0, 0.0), (8.0, 6.0), (8.0, 0.0)])) else {
            panic!("legend moved out")
        };
        assert!(b.x0 < 320.0 && b.y0 < 240.0, "upper left: {b:?}");
    }

    #[test]
    fn legend_moves_out_when_every_corner_is_taken() {
        let grid = (0..9)
            .flat_map(|i| (0..7).map(move |j| (i as f64, j as f64)))
            .collect();
        assert_eq!(spot(&chart_with(grid)), Spot::Right);
    }

    #[test]
    fn diagonal_is_clipped_to_the_box() {
        let l = RefLine::clipped(0.0, 1.0, (0.2, 0.8), (0.0, 0.5), REFERENCE, true).unwrap();
        assert_eq!(l.from, (0.2, 0.2));
        assert_eq!(l.to, (0.5, 0.5));
        assert!(RefLine::clipped(0.0, 1.0, (0.6, 0.8), (0.0, 0.5), REFERENCE, true).is_none());
    }

    #[test]
    fn flat_and_steep_lines_clip() {
        let l = RefLine::clipped(0.3, 0.0, (0.0, 1.0), (0.0, 0.5), INK, false).unwrap();
        assert_eq!((l.from, l.to), ((0.0, 0.3), (1.0, 0.3)));
        assert!(RefLine::clipped(0.9, 0.0, (0.0, 1.0), (0.0, 0.5), INK, false).is_none());
        let l = RefLine::clipped(0.0, -10.0, (-1.0, 1.0), (-1.0, 1.0), INK, false).unwrap();
        assert!((l.from.0 + 0.1).abs() < 1e-12 && (l.to.0 - 0.1).abs() < 1e-12);
    }
}
