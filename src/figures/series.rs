//! Chart elements beyond markers and reference lines: polylines that break at missing
//! values, filled bands (a fit's confidence band), interval bars with caps, and category
//! names on the y axis.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geometry::{pixel, Cart};
use super::style::{Style, TextKind, GRID};

/// A line through points in data coordinates; `None` (or a non-finite point) breaks it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Polyline {
    pub points: Vec<Option<(f64, f64)>>,
    pub colour: RGBColor,
    /// Line width in logical units.
    pub width: f64,
    pub dashed: bool,
}

/// The area between `lower` and `upper` over `xs` (all the same length).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Band {
    pub xs: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub colour: RGBColor,
    pub opacity: f64,
}

/// A bar from `from` to `to` (data coordinates) with short caps across its ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Interval {
    pub from: (f64, f64),
    pub to: (f64, f64),
    pub colour: RGBColor,
}

fn finite((x, y): (f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
}

/// The unbroken runs of a polyline (each at least one point long).
pub(crate) fn runs(points: &[Option<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for p in points {
        match p.filter(|p| finite(*p)) {
            Some(p) => out.last_mut().expect("a run").push(p),
            None if out.last().is_some_and(|r| !r.is_empty()) => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

pub(crate) fn draw_paths<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cart>,
    paths: &[Polyline],
    st: &Style,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let area = chart.plotting_area();
    for p in paths {
        let style = p.colour.stroke_width(st.ipx(p.width) as u32);
        for run in runs(&p.points).into_iter().filter(|r| r.len() > 1) {
            if p.dashed {
                let (dash, space) = (st.ipx(6.0), st.ipx(4.0));
                area.draw(&DashedPathElement::new(run, dash, space, style))?;
            } else {
                area.draw(&PathElement::new(run, style))?;
            }
        }
    }
    Ok(())
}

/// Draws bands clamped to the y range `(lo, hi)` (plotters does not clip polygons).
pub(crate) fn draw_bands<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cart>,
    bands: &[Band],
    (lo, hi): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let area = chart.plotting_area();
    for b in bands {
        let ok: Vec<usize> = (0..b.xs.len())
            .filter(|&i| b.xs[i].is_finite() && b.lower[i].is_finite() && b.upper[i].is_finite())
            .collect();
        if ok.len() < 2 {
            continue;
        }
        let clamp = |v: f64| v.clamp(lo, hi);
        let mut outline: Vec<(f64, f64)> =
            ok.iter().map(|&i| (b.xs[i], clamp(b.upper[i]))).collect();
        outline.extend(ok.iter().rev().map(|&i| (b.xs[i], clamp(b.lower[i]))));
        area.draw(&Polygon::new(outline, b.colour.mix(b.opacity).filled()))?;
    }
    Ok(())
}

pub(crate) fn draw_intervals<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cart>,
    intervals: &[Interval],
    st: &Style,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let cap = st.px(4.0);
    for iv in intervals
        .iter()
        .filter(|iv| finite(iv.from) && finite(iv.to))
    {
        let (a, b) = (pixel(chart, iv.from), pixel(chart, iv.to));
        let style = iv.colour.stroke_width(st.ipx(1.5) as u32);
        let ip = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
        root.draw(&PathElement::new(vec![ip(a), ip(b)], style))?;
        // Caps perpendicular to the bar.
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy).max(1e-9);
        let (nx, ny) = (-dy / len * cap, dx / len * cap);
        for e in [a, b] {
            root.draw(&PathElement::new(
                vec![ip((e.0 - nx, e.1 - ny)), ip((e.0 + nx, e.1 + ny))],
                style,
            ))?;
        }
    }
    Ok(())
}

/// Category names right-aligned left of the y axis at y = 0, 1, ..., with a tick and a
/// light grid line each.
pub(crate) fn draw_categories<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cart>,
    names: &[String],
    st: &Style,
    tick: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (xs, _) = chart.plotting_area().get_pixel_range();
    let font = st
        .font(TextKind::TickLabel)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, name) in names.iter().enumerate() {
        let (_, y) = pixel(chart, (0.0, i as f64));
        let y = y.round() as i32;
        root.draw(&PathElement::new(
            vec![(xs.start, y), (xs.end, y)],
            GRID.stroke_width(st.thin_width()),
        ))?;
        root.draw(&PathElement::new(
            vec![(xs.start - tick, y), (xs.start, y)],
            super::style::INK.stroke_width(st.thin_width()),
        ))?;
        root.draw(&Text::new(
            name.clone(),
            (xs.start - 2 * tick, y),
            font.clone(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_break_a_path() {
        let p = [
            Some((0.0, 1.0)),
            Some((1.0, 2.0)),
            None,
            Some((3.0, f64::NAN)),
            Some((4.0, 1.0)),
            None,
        ];
        let r = runs(&p);
        assert_eq!(r, vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(4.0, 1.0)]]);
        assert!(runs(&[None, None]).is_empty());
    }
}
