//! The labelled chart most figures are: a title, padded axes with readable ticks (or
//! category names on y), bands, reference lines, polylines, interval bars, one marker per
//! point, optional point labels, and a legend in the plot corner that hides the fewest
//! points (or right of the plot when every corner would hide some). A chart can also be
//! drawn into one cell of a larger figure (see `panels`).

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{format_tick, tick_decimals, tick_labels, X_TICKS, Y_TICKS};
use super::geometry::Rect;
use super::labels;
use super::legend::{self, Entry};
use super::legend_place::Spot;
use super::markers::{draw_marker, Marker};
use super::output::{DrawResult, Figure};
use super::series::{self, Band, Interval, Polyline};
use super::style::{Style, TextKind as T, GRID, INK};

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
}

pub(crate) type Cart = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// Space around the plot, in device pixels.
pub(crate) struct Frame {
    /// Room for the rotated y-axis title's ascenders and the x title's descenders.
    edge: i32,
    x_area: i32,
    y_area: i32,
    top: i32,
    right: i32,
    tick: i32,
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

    /// Draws the title (and the subtitle under it) and returns the area left below.
    pub(crate) fn draw_title<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        draw: bool,
    ) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
        let margin = st.ipx(10.0);
        if self.title.trim().is_empty() && self.subtitle.is_empty() {
            return Ok(root.margin(margin, 0, 0, 0));
        }
        let (w, _) = root.dim_in_pixel();
        let kind = if self.panel { T::PanelTitle } else { T::Title };
        let mut style = st.font(kind);
        let (tw, th) = st.measure(root, &self.title, kind)?;
        let room = (w as i32 - 2 * margin) as f64;
        if tw > room {
            // Shrink a long title to fit, down to 70% of its size.
            let size = style.font.get_size() * (room / tw).max(0.7);
            style = style.font.resize(size).color(&INK);
        }
        let lines = self.subtitle_lines(root, st, room)?;
        let sub_h = st.measure(root, "Xy", T::Annotation)?.1 * 1.25;
        let h = th.round() as i32 + 2 * margin + (sub_h * lines.len() as f64).round() as i32;
        let (top, body) = root.split_vertically(h);
        if !draw {
            return Ok(body);
        }
        let title_y = margin + th.round() as i32 / 2 + margin / 4;
        top.draw(&Text::new(
            self.title.clone(),
            (w as i32 / 2, title_y),
            style.pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        let font = st
            .font(T::Annotation)
            .pos(Pos::new(HPos::Center, VPos::Center));
        for (i, line) in lines.into_iter().enumerate() {
            let y = title_y as f64 + th / 2.0 + sub_h * (i as f64 + 0.6);
            top.draw(&Text::new(
                line,
                (w as i32 / 2, y.round() as i32),
                font.clone(),
            ))?;
        }
        Ok(body)
    }

    /// The subtitle in lines no wider than `room`, broken after commas.
    fn subtitle_lines<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        room: f64,
    ) -> Result<Vec<String>, DrawingAreaErrorKind<DB::ErrorType>> {
        let mut lines: Vec<String> = Vec::new();
        if self.subtitle.is_empty() {
            return Ok(lines);
        }
        for part in self.subtitle.split(", ") {
            let joined = match lines.last() {
                Some(last) => format!("{last}, {part}"),
                None => part.to_string(),
            };
            if !lines.is_empty() && st.measure(root, &joined, T::Annotation)?.0 <= room {
                *lines.last_mut().expect("a line") = joined;
            } else {
                lines.push(part.to_string());
            }
        }
        Ok(lines)
    }

    /// Label-area sizes that fit the tick labels and axis titles.
    pub(crate) fn frame<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
        (xd, yd): (usize, usize),
    ) -> Result<Frame, DrawingAreaErrorKind<DB::ErrorType>> {
        let mut y_tick_w: f64 = 0.0;
        let y_labels = match &self.y_categories {
            Some(names) => names.clone(),
            None => tick_labels(self.y_range, self.y_ticks(), yd),
        };
        for l in y_labels {
            y_tick_w = y_tick_w.max(st.measure(root, &l, T::TickLabel)?.0);
        }
        let y_tick_w = y_tick_w.round() as i32;
        let last_x_w = match tick_labels(self.x_range, self.x_ticks(), xd).last() {
            Some(l) => st.measure(root, l, T::TickLabel)?.0.round() as i32,
            None => 0,
        };
        let tick_h = st.measure(root, "0.9", T::TickLabel)?.1.round() as i32;
        let axis_h = st.measure(root, "Xy", self.axis_kind())?.1.round() as i32;
        let (x_axis_h, y_axis_h) = (
            if self.x_label.is_empty() { 0 } else { axis_h },
            if self.y_label.is_empty() { 0 } else { axis_h },
        );
        let tick = st.ipx(5.0);
        let gap = st.ipx(8.0);
        Ok(Frame {
            edge: st.ipx(6.0),
            // plotters puts tick labels 2 * tick from the axis and the title at the far edge
            x_area: 2 * tick + tick_h + gap + x_axis_h + st.ipx(4.0),
            y_area: 2 * tick + y_tick_w + gap + y_axis_h + st.ipx(4.0),
            top: (tick_h / 2 + st.ipx(4.0)).max(st.ipx(8.0)),
            right: (last_x_w / 2 + st.ipx(6.0)).max(st.ipx(16.0)),
            tick,
        })
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

/// `label`, without its trailing parenthesised parts while it is longer than `room`.
fn fit_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    st: &Style,
    label: &str,
    kind: T,
    room: f64,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut out = label.to_string();
    while st.measure(root, &out, kind)?.0 > room {
        match out.rfind(" (") {
            Some(i) if i > 0 => out.truncate(i),
            _ => break,
        }
    }
    Ok(out)
}

/// The plot rectangle of a chart, in device pixels.
pub(crate) fn plot_rect<DB: DrawingBackend>(chart: &ChartContext<'_, DB, Cart>) -> Rect {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    Rect {
        x0: xs.start as f64,
        y0: ys.start as f64,
        x1: xs.end as f64,
        y1: ys.end as f64,
    }
}

pub(crate) fn pixel<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cart>,
    (x, y): (f64, f64),
) -> (f64, f64) {
    let (px, py) = chart.backend_coord(&(x, y));
    (px as f64, py as f64)
}

impl Figure for Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, st: &Style) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        self.draw_in(root, root, st)
    }
}

impl Chart {
    /// Draws the chart inside `cell`, a part of `root` (the whole figure, whose origin is
    /// the device origin: markers, labels and the legend are placed in device pixels).
    pub(crate) fn draw_in<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        cell: &DrawingArea<DB, Shift>,
        st: &Style,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        self.draw_body(root, cell, st)
    }

    fn draw_body<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        cell: &DrawingArea<DB, Shift>,
        st: &Style,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let body = self.draw_title(cell, st, true)?;
        let decimals = (
            tick_decimals(self.x_range, self.x_ticks()),
            tick_decimals(self.y_range, self.y_ticks()),
        );
        let frame = self.frame(root, st, decimals)?;
        let r = st.marker_radius(self.points.len());
        let inset = st.px(8.0);

        // Lay out once with the legend inside; move it right of the plot if every corner
        // would hide a point and the legend is narrow enough to leave a useful plot.
        let metrics = if self.legend.is_empty() {
            None
        } else {
            Some(legend::measure(root, &self.legend, st)?)
        };
        let (body_w, body_h) = body.dim_in_pixel();
        let outside_area;
        let mut chart = self.build(&body, &frame)?;
        let mut legend_box = None;
        if let Some(m) = metrics {
            match self.legend_spot(&chart, &m, st, body_w) {
                Spot::Inside(b) => legend_box = Some(b),
                Spot::Right => {
                    let outside_w = (m.width + 2.0 * inset).ceil() as i32;
                    let (left, right) = body.split_horizontally(body_w as i32 - outside_w);
                    outside_area = left;
                    chart = self.build(&outside_area, &frame)?;
                    let (rx, _) = right.get_base_pixel();
                    let top = plot_rect(&chart).y0;
                    legend_box = Some(Rect::new(rx as f64 + inset, top, m.width, m.height));
                }
                Spot::Below => {
                    let below_h = (m.height + 2.0 * inset).ceil() as i32;
                    let (upper, lower) =
                        body.split_vertically((body_h as i32 - below_h).max(body_h as i32 / 3));
                    outside_area = upper;
                    chart = self.build(&outside_area, &frame)?;
                    let (_, ly) = lower.get_base_pixel();
                    let plot = plot_rect(&chart);
                    let x = (plot.x0 + plot.x1 - m.width) / 2.0;
                    legend_box = Some(Rect::new(
                        x.max(plot.x0),
                        ly as f64 + inset * 0.5,
                        m.width,
                        m.height,
                    ));
                }
            }
        }

        // An axis title longer than its axis loses its parenthesised qualifiers.
        let plot = plot_rect(&chart);
        let y_label = fit_label(root, st, &self.y_label, self.axis_kind(), plot.height())?;
        let x_label = fit_label(root, st, &self.x_label, self.axis_kind(), plot.width())?;
        let (xd, yd) = decimals;
        let fx = move |v: &f64| format_tick(*v, xd);
        let fy = move |v: &f64| format_tick(*v, yd);
        let y_ticks = if self.y_categories.is_some() {
            0
        } else {
            self.y_ticks()
        };
        chart
            .configure_mesh()
            .x_labels(self.x_ticks())
            .y_labels(y_ticks)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .x_desc(x_label.as_str())
            .y_desc(y_label.as_str())
            .axis_desc_style(st.font(self.axis_kind()))
            .label_style(st.font(T::TickLabel))
            .axis_style(INK.stroke_width(st.thin_width()))
            .bold_line_style(GRID.stroke_width(st.thin_width()))
            .light_line_style(TRANSPARENT)
            .max_light_lines(0)
            .set_all_tick_mark_size(frame.tick)
            .draw()?;
        if let Some(names) = &self.y_categories {
            series::draw_categories(root, &chart, names, st, frame.tick)?;
        }
        series::draw_bands(&chart, &self.bands, self.y_range)?;

        for l in &self.lines {
            let style = l.colour.stroke_width(st.line_width());
            if l.dashed {
                let (dash, space) = (st.ipx(8.0), st.ipx(5.0));
                chart.draw_series(DashedLineSeries::new(
                    vec![l.from, l.to],
                    dash,
                    space,
                    style,
                ))?;
            } else {
                chart.draw_series(LineSeries::new(vec![l.from, l.to], style))?;
            }
        }

        series::draw_paths(&chart, &self.paths, st)?;
        series::draw_intervals(root, &chart, &self.intervals, st)?;

        let anchors: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| pixel(&chart, (p.x, p.y)))
            .collect();
        for (p, &a) in self.points.iter().zip(&anchors) {
            draw_marker(root, a, r * p.size, st.thin_width(), &p.marker)?;
        }

        let labelled: Vec<(usize, &str)> = self
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.label.as_deref().map(|l| (i, l)))
            .collect();
        if !labelled.is_empty() {
            let font = st.font(T::Annotation);
            let mut sizes = Vec::with_capacity(labelled.len());
            for (_, text) in &labelled {
                sizes.push(st.measure(root, text, T::Annotation)?);
            }
            let label_anchors: Vec<_> = labelled.iter().map(|(i, _)| anchors[*i]).collect();
            let obstacles: Vec<Rect> = legend_box.iter().copied().collect();
            let boxes = labels::place(&label_anchors, &sizes, r, &plot_rect(&chart), &obstacles);
            let font = font.pos(Pos::new(HPos::Left, VPos::Top));
            for ((_, text), b) in labelled.iter().zip(&boxes) {
                let Some(b) = b else { continue };
                let at = (b.x0.round() as i32, b.y0.round() as i32);
                root.draw(&Text::new(text.to_string(), at, font.clone()))?;
            }
        }

        if let (Some(m), Some(b)) = (metrics, legend_box) {
            legend::draw(root, &b, &self.legend, &m, st, st.marker_radius(0))?;
        }
        Ok(())
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
    use crate::figures::style::REFERENCE;

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
        let frame = chart.frame(&root, &st, (0, 0)).unwrap();
        let ctx = chart.build(&root, &frame).unwrap();
        let m = legend::measure(&root, &chart.legend, &st).unwrap();
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
