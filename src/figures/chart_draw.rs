//! Laying a [`Chart`] out on its canvas and drawing it.
//!
//! The canvas is as tall as the chart needs ([`Chart::natural_height`]): the title (wrapped
//! to the width), the plot in proportion to its width and at least as tall as its y-axis
//! title, the label areas, and a strip below the plot for a legend that fits in no corner
//! of it. Tick labels are as many as fit without touching (up to the chart's maximum), an
//! axis title too long for its axis loses its parenthesised qualifiers, then is set at the
//! tick-label size and shortened; category names longer than 40% of the width are
//! shortened in their middle. The legend goes where `legend_place` says; below the plot it
//! is wrapped and set in as many columns as the width holds.

use std::borrow::Cow;
use std::error::Error;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{format_tick, tick_decimals, tick_values};
use super::chart::{Chart, Frame};
use super::geometry::{pixel, plot_rect, Cart, Rect};
use super::labels;
use super::legend::{self, Entry, Metrics};
use super::legend_place::Spot;
use super::markers::draw_marker;
use super::output::{DrawResult, Figure};
use super::series;
use super::style::{Style, Target, TextKind as T, GRID, INK};
use super::text_fit::{shorten, shorten_all, wrap};

/// A plot's height over its width, when the chart does not fix its height.
pub(crate) const PLOT_ASPECT: f64 = 0.68;

/// The legend as it will be drawn: its box, sizes and (wrapped) entries, and the height it
/// takes below the plot (0 inside or beside it).
pub(crate) struct Placed {
    pub rect: Rect,
    pub metrics: Metrics,
    pub entries: Vec<Entry>,
    pub below: f64,
}

type AreaResult<DB, T> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

impl Figure for Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, st: &Style) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        self.draw_in(root, root, st)
    }

    fn height_units(&self, width_units: f64) -> f64 {
        self.natural_height(width_units)
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
        let chart = self.fitted(cell.dim_in_pixel().0 as f64, st);
        chart.draw_body(root, cell, st)
    }

    /// This chart with category names shortened to at most 40% of a `w`-pixel width.
    fn fitted(&self, w: f64, st: &Style) -> Cow<'_, Chart> {
        let Some(names) = &self.y_categories else {
            return Cow::Borrowed(self);
        };
        let room = 0.4 * w;
        let measure = |t: &str| st.text_size(t, T::TickLabel).0;
        if names.iter().all(|n| measure(n) <= room) {
            return Cow::Borrowed(self);
        }
        let mut c = self.clone();
        c.y_categories = Some(shorten_all(names, room, &measure));
        Cow::Owned(c)
    }

    /// Tick decimals for the most ticks the chart allows.
    pub(crate) fn decimals(&self) -> (usize, usize) {
        (
            tick_decimals(self.x_range, self.x_ticks()),
            tick_decimals(self.y_range, self.y_ticks()),
        )
    }

    /// Logical height of this chart drawn alone, `w` logical units wide (see the module).
    pub(crate) fn natural_height(&self, w: f64) -> f64 {
        self.height_with(w, PLOT_ASPECT)
    }

    /// [`Chart::natural_height`] with a plot `aspect` times as tall as it is wide.
    pub(crate) fn height_with(&self, w: f64, aspect: f64) -> f64 {
        let st = Style::new(1.0, Target::Raster);
        let c = self.fitted(w, &st);
        let h0 = c.height_without_legend(w, aspect, &st);
        if c.legend.is_empty() || !h0.is_finite() || !w.is_finite() || w < 1.0 {
            return h0;
        }
        // Decide on the legend as drawing will, on a canvas of that height.
        let (wi, hi) = (w.round() as u32, h0.ceil().clamp(1.0, 1e5) as u32);
        let mut buf = vec![0u8; wi as usize * hi as usize * 3];
        let root = BitMapBackend::with_buffer(&mut buf, (wi, hi)).into_drawing_area();
        let below = (|| -> Result<f64, Box<dyn Error>> {
            let body = c.draw_title(&root, &st, false)?;
            let frame = c.frame(&st, c.decimals());
            let (_, placed) = c.place_legend(&body, &frame, &st)?;
            Ok(placed.map_or(0.0, |p| p.below))
        })()
        .unwrap_or(0.0);
        h0 + below
    }

    /// The title, the label areas and a plot in proportion to its width (or of the chart's
    /// fixed height), at least as tall as the shortest form of its y title.
    fn height_without_legend(&self, w: f64, aspect: f64, st: &Style) -> f64 {
        let frame = self.frame(st, self.decimals());
        let plot_w = w - (frame.edge + frame.y_area + frame.right) as f64;
        let y_title = self.y_label.split(" (").next().unwrap_or("");
        let y_title_w = st.text_size(y_title, self.axis_kind()).0;
        let plot_h = self
            .plot_height
            .map_or(aspect * plot_w, |h| st.px(h))
            .max(y_title_w + st.px(8.0));
        self.title_height(w, st) + (frame.top + frame.x_area + frame.edge) as f64 + plot_h
    }

    fn title_kind(&self) -> T {
        if self.panel {
            T::PanelTitle
        } else {
            T::Title
        }
    }

    /// The title's lines, wrapped to `room`, and the subtitle's, broken after commas.
    fn title_lines(&self, st: &Style, room: f64) -> (Vec<String>, Vec<String>) {
        let kind = self.title_kind();
        let title = if self.title.trim().is_empty() {
            Vec::new()
        } else {
            wrap(&self.title, room, &|t| st.text_size(t, kind).0)
        };
        let mut sub: Vec<String> = Vec::new();
        if !self.subtitle.is_empty() {
            for part in self.subtitle.split(", ") {
                let joined = match sub.last() {
                    Some(last) => format!("{last}, {part}"),
                    None => part.to_string(),
                };
                if !sub.is_empty() && st.text_size(&joined, T::Annotation).0 <= room {
                    *sub.last_mut().expect("a line") = joined;
                } else {
                    sub.push(shorten(part, room, &|t| st.text_size(t, T::Annotation).0));
                }
            }
        }
        (title, sub)
    }

    /// Line heights of the title and the subtitle.
    fn title_line_heights(&self, st: &Style) -> (f64, f64) {
        let th = st.text_size("Xy()", self.title_kind()).1;
        (th, st.text_size("Xy()", T::Annotation).1 * 1.25)
    }

    /// Height of the title block of a `w`-pixel-wide chart, in whole pixels.
    fn title_height(&self, w: f64, st: &Style) -> f64 {
        let margin = st.ipx(10.0) as f64;
        let (title, sub) = self.title_lines(st, w - 2.0 * margin);
        if title.is_empty() && sub.is_empty() {
            return margin;
        }
        let (th, sub_h) = self.title_line_heights(st);
        let title_h = th * (1.0 + 1.15 * title.len().saturating_sub(1) as f64);
        (title_h + 2.0 * margin + sub_h * sub.len() as f64).round()
    }

    /// Draws the title (and the subtitle under it) when `draw`, and returns the area below.
    pub(crate) fn draw_title<DB: DrawingBackend>(
        &self,
        cell: &DrawingArea<DB, Shift>,
        st: &Style,
        draw: bool,
    ) -> AreaResult<DB, DrawingArea<DB, Shift>> {
        let (w, _) = cell.dim_in_pixel();
        let h = self.title_height(w as f64, st) as i32;
        let (top, body) = cell.split_vertically(h);
        if !draw {
            return Ok(body);
        }
        let margin = st.ipx(10.0) as f64;
        let (title, sub) = self.title_lines(st, w as f64 - 2.0 * margin);
        let (th, sub_h) = self.title_line_heights(st);
        let centre = Pos::new(HPos::Center, VPos::Center);
        let mut y = margin + th / 2.0 + margin / 4.0;
        let x = w as i32 / 2;
        for (i, line) in title.iter().enumerate() {
            let at = (x, (y + 1.15 * th * i as f64).round() as i32);
            top.draw(&Text::new(
                line.clone(),
                at,
                st.font(self.title_kind()).pos(centre),
            ))?;
        }
        y += 1.15 * th * title.len().saturating_sub(1) as f64;
        let font = st.font(T::Annotation).pos(centre);
        for (i, line) in sub.into_iter().enumerate() {
            let at = (x, (y + th / 2.0 + sub_h * (i as f64 + 0.6)).round() as i32);
            top.draw(&Text::new(line, at, font.clone()))?;
        }
        Ok(body)
    }

    /// Where the legend goes (see `legend_place`), and the area left for the chart.
    pub(crate) fn place_legend<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        frame: &Frame,
        st: &Style,
    ) -> AreaResult<DB, (DrawingArea<DB, Shift>, Option<Placed>)> {
        if self.legend.is_empty() {
            return Ok((body.clone(), None));
        }
        let m = legend::metrics(&self.legend, st, None);
        let (body_w, _) = body.dim_in_pixel();
        let inset = st.px(8.0);
        let spot = {
            let chart = self.build(body, frame)?;
            match self.legend_spot(&chart, &m, st, body_w) {
                Spot::Right if m.height > plot_rect(&chart).height() => Spot::Below,
                s => s,
            }
        };
        let placed = |rect, below| Placed {
            rect,
            metrics: m,
            entries: self.legend.clone(),
            below,
        };
        match spot {
            Spot::Inside(b) => Ok((body.clone(), Some(placed(b, 0.0)))),
            Spot::Right => {
                let outside_w = (m.width + 2.0 * inset).ceil() as i32;
                let (left, right) = body.split_horizontally(body_w as i32 - outside_w);
                let top = plot_rect(&self.build(&left, frame)?).y0;
                let (rx, _) = right.get_base_pixel();
                let rect = Rect::new(rx as f64 + inset, top, m.width, m.height);
                Ok((left, Some(placed(rect, 0.0))))
            }
            Spot::Below => self.legend_below(body, frame, st),
        }
    }

    /// The legend in a strip below the plot, wrapped to the width and in columns, centred
    /// under the plot where it fits.
    fn legend_below<DB: DrawingBackend>(
        &self,
        body: &DrawingArea<DB, Shift>,
        frame: &Frame,
        st: &Style,
    ) -> AreaResult<DB, (DrawingArea<DB, Shift>, Option<Placed>)> {
        let (body_w, body_h) = body.dim_in_pixel();
        let (bx, _) = body.get_base_pixel();
        let inset = st.px(8.0);
        let room = body_w as f64 - 2.0 * inset;
        let entries = legend::wrapped(&self.legend, st, room);
        let m = legend::metrics(&entries, st, Some(room));
        let below = (m.height + 1.5 * inset).ceil();
        let split = (body_h as f64 - below).max(body_h as f64 / 3.0).round() as i32;
        let (upper, lower) = body.split_vertically(split);
        let plot = plot_rect(&self.build(&upper, frame)?);
        let (_, ly) = lower.get_base_pixel();
        let (lo, hi) = (
            bx as f64 + inset,
            bx as f64 + body_w as f64 - inset - m.width,
        );
        let x = ((plot.x0 + plot.x1 - m.width) / 2.0).min(hi).max(lo);
        let rect = Rect::new(x, ly as f64 + 0.5 * inset, m.width, m.height);
        let placed = Placed {
            rect,
            metrics: m,
            entries,
            below,
        };
        Ok((upper, Some(placed)))
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
        let frame = self.frame(st, self.decimals());
        let (area, placed) = self.place_legend(&body, &frame, st)?;
        let mut chart = self.build(&area, &frame)?;
        self.draw_mesh(root, &mut chart, st, frame.tick)?;
        self.draw_data(root, &mut chart, st)?;
        let obstacles: Vec<Rect> = placed.iter().map(|p| p.rect).collect();
        self.draw_points(root, &chart, st, &obstacles)?;
        if let Some(p) = placed {
            legend::draw(
                root,
                &p.rect,
                &p.entries,
                &p.metrics,
                st,
                st.marker_radius(0),
            )?;
        }
        Ok(())
    }

    /// Axes, grid, tick labels (as many as fit) and axis titles (fitted to their axes).
    fn draw_mesh<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &mut ChartContext<'_, DB, Cart>,
        st: &Style,
        tick: i32,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let plot = plot_rect(chart);
        let (nx, ny) = (self.x_tick_count(&plot, st), self.y_tick_count(&plot, st));
        let (xd, yd) = (
            tick_decimals(self.x_range, nx),
            tick_decimals(self.y_range, ny),
        );
        let kind = self.axis_kind();
        let (y_label, yk) = fit_label(st, &self.y_label, kind, plot.height());
        let (x_label, xk) = fit_label(st, &self.x_label, kind, plot.width());
        // One style serves both titles: the smaller when either had to shrink.
        let (x_label, y_label) = match (xk == kind, yk == kind) {
            (true, true) => (x_label, y_label),
            _ => (
                fit_label(st, &self.x_label, T::TickLabel, plot.width()).0,
                fit_label(st, &self.y_label, T::TickLabel, plot.height()).0,
            ),
        };
        let desc_kind = if xk == kind && yk == kind {
            kind
        } else {
            T::TickLabel
        };
        let fx = move |v: &f64| format_tick(*v, xd);
        let fy = move |v: &f64| format_tick(*v, yd);
        let y_ticks = if self.y_categories.is_some() { 0 } else { ny };
        chart
            .configure_mesh()
            .x_labels(nx)
            .y_labels(y_ticks)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .x_desc(x_label.as_str())
            .y_desc(y_label.as_str())
            .axis_desc_style(st.font(desc_kind))
            .label_style(st.font(T::TickLabel))
            .axis_style(INK.stroke_width(st.thin_width()))
            .bold_line_style(GRID.stroke_width(st.thin_width()))
            .light_line_style(TRANSPARENT)
            .max_light_lines(0)
            .set_all_tick_mark_size(tick)
            .draw()?;
        if let Some(names) = &self.y_categories {
            series::draw_categories(root, chart, names, st, tick)?;
        }
        Ok(())
    }

    /// The most x tick labels (up to the chart's maximum) that keep apart.
    fn x_tick_count(&self, plot: &Rect, st: &Style) -> usize {
        let (lo, hi) = self.x_range;
        let gap = st.px(8.0);
        let fits = |n: usize| {
            let d = tick_decimals(self.x_range, n);
            let at: Vec<(f64, f64)> = tick_values(self.x_range, n)
                .into_iter()
                .map(|v| {
                    let x = plot.x0 + (v - lo) / (hi - lo) * plot.width();
                    (x, st.text_size(&format_tick(v, d), T::TickLabel).0)
                })
                .collect();
            at.windows(2)
                .all(|w| w[1].0 - w[0].0 >= (w[0].1 + w[1].1) / 2.0 + gap)
        };
        (2..=self.x_ticks()).rev().find(|&n| fits(n)).unwrap_or(2)
    }

    /// The most y tick labels (up to the chart's maximum) that keep apart.
    fn y_tick_count(&self, plot: &Rect, st: &Style) -> usize {
        let (lo, hi) = self.y_range;
        let need = st.text_size("0.9", T::TickLabel).1 + st.px(3.0);
        let fits = |n: usize| {
            let ys: Vec<f64> = tick_values(self.y_range, n)
                .into_iter()
                .map(|v| (v - lo) / (hi - lo) * plot.height())
                .collect();
            ys.windows(2).all(|w| (w[1] - w[0]).abs() >= need)
        };
        (2..=self.y_ticks()).rev().find(|&n| fits(n)).unwrap_or(2)
    }

    /// Bands, reference lines, paths and intervals.
    fn draw_data<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &mut ChartContext<'_, DB, Cart>,
        st: &Style,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        series::draw_bands(chart, &self.bands, self.y_range)?;
        for l in &self.lines {
            let style = l.colour.stroke_width(st.line_width());
            let ends = vec![l.from, l.to];
            if l.dashed {
                let (dash, space) = (st.ipx(8.0), st.ipx(5.0));
                chart.draw_series(DashedLineSeries::new(ends, dash, space, style))?;
            } else {
                chart.draw_series(LineSeries::new(ends, style))?;
            }
        }
        series::draw_paths(chart, &self.paths, st)?;
        series::draw_intervals(root, chart, &self.intervals, st)?;
        Ok(())
    }

    /// Markers, then the point labels that fit clear of markers, labels and `obstacles`.
    fn draw_points<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &ChartContext<'_, DB, Cart>,
        st: &Style,
        obstacles: &[Rect],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = st.marker_radius(self.points.len());
        let anchors: Vec<(f64, f64)> = self
            .points
            .iter()
            .map(|p| pixel(chart, (p.x, p.y)))
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
        if labelled.is_empty() {
            return Ok(());
        }
        let sizes: Vec<(f64, f64)> = labelled
            .iter()
            .map(|(_, t)| st.text_size(t, T::Annotation))
            .collect();
        let label_anchors: Vec<_> = labelled.iter().map(|(i, _)| anchors[*i]).collect();
        // Every marker, labelled or not and whatever its size, is in a label's way.
        let mut blocked = obstacles.to_vec();
        blocked.extend(
            self.points
                .iter()
                .zip(&anchors)
                .map(|(p, &(x, y))| Rect::around(x, y, r * p.size + st.px(1.5))),
        );
        let boxes = labels::place(&label_anchors, &sizes, r, &plot_rect(chart), &blocked);
        let font = st.font(T::Annotation).pos(Pos::new(HPos::Left, VPos::Top));
        for ((_, text), b) in labelled.iter().zip(&boxes) {
            let Some(b) = b else { continue };
            let at = (b.x0.round() as i32, b.y0.round() as i32);
            root.draw(&Text::new(text.to_string(), at, font.clone()))?;
        }
        Ok(())
    }
}

/// `label` fitted to `room`: without its trailing parenthesised parts while too long; if
/// still too long, set at the tick-label size and shortened. Returns the text and its kind.
fn fit_label(st: &Style, label: &str, kind: T, room: f64) -> (String, T) {
    let width = |t: &str, k: T| st.text_size(t, k).0;
    let mut out = label.to_string();
    while width(&out, kind) > room {
        match out.rfind(" (") {
            Some(i) if i > 0 => out.truncate(i),
            _ => break,
        }
    }
    if width(&out, kind) <= room {
        return (out, kind);
    }
    let small = T::TickLabel;
    (shorten(&out, room, &|t| width(t, small)), small)
}
