//! The legend box: its entries (group markers, reference lines, plain text such as
//! statistics), its size, the choice of the plot corner that hides the least data, and
//! drawing it.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::geometry::Rect;
use super::markers::{draw_marker, Marker};
use super::style::{Style, TextKind, FRAME};

/// What is drawn left of an entry's text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Swatch {
    Marker(Marker),
    Line {
        colour: RGBColor,
        dashed: bool,
    },
    /// A light filled box (a confidence band).
    Band(RGBColor),
    /// No swatch: the text starts at the left edge (used for statistics).
    None,
    /// The continued line of the entry above: indented as if it had a swatch.
    Continued,
}

/// One row of the legend.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub swatch: Swatch,
    pub text: String,
}

/// Sizes of a legend in device pixels. Entries run down `columns` columns of `rows` rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Metrics {
    pub width: f64,
    pub height: f64,
    pad: f64,
    swatch_w: f64,
    gap: f64,
    row_h: f64,
    rows: usize,
    col_w: f64,
    col_gap: f64,
}

/// The legend's sizes: one column, or with `max_w`, as many columns as fit that width.
pub(crate) fn metrics(entries: &[Entry], st: &Style, max_w: Option<f64>) -> Metrics {
    let (pad, swatch_w, gap) = (st.px(7.0), st.px(24.0), st.px(7.0));
    let col_gap = st.px(14.0);
    let mut row_h: f64 = st.px(12.0);
    let mut col_w: f64 = 0.0;
    for e in entries {
        let (w, h) = st.text_size(&e.text, TextKind::Legend);
        row_h = row_h.max(h * 1.45);
        col_w = col_w.max(indent(&e.swatch, swatch_w, gap) + w);
    }
    let n = entries.len().max(1);
    let columns = match max_w {
        Some(max) => {
            (((max - 2.0 * pad + col_gap) / (col_w + col_gap)).floor() as usize).clamp(1, n)
        }
        None => 1,
    };
    let rows = n.div_ceil(columns);
    // Balance the columns: as few as the rows need.
    let columns = n.div_ceil(rows);
    Metrics {
        width: columns as f64 * col_w + (columns - 1) as f64 * col_gap + 2.0 * pad,
        height: row_h * rows as f64 + 2.0 * pad - 0.2 * row_h,
        pad,
        swatch_w,
        gap,
        row_h,
        rows,
        col_w,
        col_gap,
    }
}

fn indent(swatch: &Swatch, swatch_w: f64, gap: f64) -> f64 {
    match swatch {
        Swatch::None => 0.0,
        _ => swatch_w + gap,
    }
}

/// `entries` with every text wider than `max_w` (with its swatch) wrapped onto continued
/// rows, so that the legend fits a narrow figure.
pub(crate) fn wrapped(entries: &[Entry], st: &Style, max_w: f64) -> Vec<Entry> {
    let (pad, swatch_w, gap) = (st.px(7.0), st.px(24.0), st.px(7.0));
    let measure = |t: &str| st.text_size(t, TextKind::Legend).0;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let room = max_w - 2.0 * pad - indent(&e.swatch, swatch_w, gap);
        let lines = super::text_fit::wrap(&e.text, room, &measure);
        let continued = match e.swatch {
            Swatch::None => Swatch::None,
            _ => Swatch::Continued,
        };
        for (i, line) in lines.into_iter().enumerate() {
            out.push(Entry {
                swatch: if i == 0 {
                    e.swatch.clone()
                } else {
                    continued.clone()
                },
                text: line,
            });
        }
    }
    out
}

/// The candidate corners, in order of preference on ties.
const CORNERS: [(bool, bool); 4] = [(false, false), (true, false), (true, true), (false, true)];

/// Picks the corner of `plot` (inset by `inset`) for a `w` x `h` legend that covers the
/// fewest markers; line samples count for much less than markers. Returns the box, the
/// number of markers it covers and the number of line samples inside it.
pub(crate) fn best_corner(
    plot: &Rect,
    (w, h): (f64, f64),
    inset: f64,
    markers: &[Rect],
    line_samples: &[(f64, f64)],
) -> (Rect, usize, usize) {
    let mut best: Option<(f64, Rect, usize, usize)> = None;
    for (right, bottom) in CORNERS {
        let x0 = if right {
            plot.x1 - inset - w
        } else {
            plot.x0 + inset
        };
        let y0 = if bottom {
            plot.y1 - inset - h
        } else {
            plot.y0 + inset
        };
        let r = Rect::new(x0, y0, w, h);
        let covered = markers.iter().filter(|m| r.overlap(m) > 0.0).count();
        let crossed = line_samples
            .iter()
            .filter(|&&(x, y)| r.contains(x, y))
            .count();
        let cost = covered as f64 + 0.02 * crossed as f64;
        if best.is_none_or(|(c, _, _, _)| cost < c) {
            best = Some((cost, r, covered, crossed));
        }
    }
    let (_, r, n, crossed) = best.expect("four corners");
    (r, n, crossed)
}

/// Draws the legend with its top-left corner at `rect`'s.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rect: &Rect,
    entries: &[Entry],
    m: &Metrics,
    st: &Style,
    marker_r: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let ir = |v: f64| v.round() as i32;
    let corners = [(ir(rect.x0), ir(rect.y0)), (ir(rect.x1), ir(rect.y1))];
    area.draw(&Rectangle::new(corners, WHITE.mix(0.88).filled()))?;
    let [(x0, y0), (x1, y1)] = corners;
    let frame = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    area.draw(&PathElement::new(
        frame,
        FRAME.stroke_width(st.thin_width()),
    ))?;
    let font = st
        .font(TextKind::Legend)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, e) in entries.iter().enumerate() {
        let (col, row) = (i / m.rows.max(1), i % m.rows.max(1));
        let cy = rect.y0 + m.pad + m.row_h * (row as f64 + 0.4);
        let sx0 = rect.x0 + m.pad + col as f64 * (m.col_w + m.col_gap);
        let text_x = match e.swatch {
            Swatch::None => sx0,
            _ => sx0 + m.swatch_w + m.gap,
        };
        draw_swatch(area, &e.swatch, (sx0, cy), m, st, marker_r)?;
        area.draw(&Text::new(
            e.text.clone(),
            (ir(text_x), ir(cy)),
            font.clone(),
        ))?;
    }
    Ok(())
}

/// Draws `swatch` with its left end at `(sx0, cy)`.
fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: &Swatch,
    (sx0, cy): (f64, f64),
    m: &Metrics,
    st: &Style,
    marker_r: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let ir = |v: f64| v.round() as i32;
    let segment = |x0: f64, x1: f64| vec![(ir(x0), ir(cy)), (ir(x1), ir(cy))];
    match swatch {
        Swatch::None | Swatch::Continued => {}
        Swatch::Marker(marker) => {
            let at = (sx0 + m.swatch_w / 2.0, cy);
            draw_marker(area, at, marker_r, st.thin_width(), marker)?;
        }
        Swatch::Band(colour) => {
            let h = m.row_h * 0.35;
            let box_ = [(ir(sx0), ir(cy - h)), (ir(sx0 + m.swatch_w), ir(cy + h))];
            area.draw(&Rectangle::new(box_, colour.mix(0.12).filled()))?;
            let style = colour.stroke_width(st.line_width());
            area.draw(&PathElement::new(segment(sx0, sx0 + m.swatch_w), style))?;
        }
        Swatch::Line { colour, dashed } => {
            let style = colour.stroke_width(st.line_width());
            if *dashed {
                let dash = m.swatch_w / 3.0;
                for k in [0.0, 2.0] {
                    let x = sx0 + k * dash;
                    area.draw(&PathElement::new(segment(x, x + dash), style))?;
                }
            } else {
                area.draw(&PathElement::new(segment(sx0, sx0 + m.swatch_w), style))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_upper_left_when_empty() {
        let plot = Rect::new(0.0, 0.0, 400.0, 300.0);
        let (r, n, _) = best_corner(&plot, (100.0, 50.0), 5.0, &[], &[]);
        assert_eq!(n, 0);
        assert_eq!((r.x0, r.y0), (5.0, 5.0));
    }

    #[test]
    fn avoids_the_populated_corner() {
        let plot = Rect::new(0.0, 0.0, 400.0, 300.0);
        let markers = [
            Rect::around(20.0, 20.0, 4.0),
            Rect::around(380.0, 20.0, 4.0),
        ];
        let (r, n, _) = best_corner(&plot, (100.0, 50.0), 5.0, &markers, &[]);
        assert_eq!(n, 0);
        assert_eq!((r.x1, r.y1), (395.0, 295.0));
    }

    #[test]
    fn lines_matter_less_than_points() {
        let plot = Rect::new(0.0, 0.0, 400.0, 300.0);
        let line: Vec<_> = (0..100).map(|i| (i as f64 * 4.0, 30.0)).collect();
        let markers = [
            Rect::around(380.0, 280.0, 4.0),
            Rect::around(20.0, 280.0, 4.0),
        ];
        let (r, n, _) = best_corner(&plot, (100.0, 50.0), 5.0, &markers, &line);
        assert_eq!(n, 0);
        assert_eq!(r.y0, 5.0); // a top corner, crossed by the line but hiding no point
    }
}

/// Legends list at most this many groups; the rest are summarised as "+N more".
pub(crate) const MAX_ENTRIES: usize = 12;

/// `entries` cut to at most `max` rows: the first `max - 1` and a "+N more" row.
pub(crate) fn capped(mut entries: Vec<Entry>, max: usize) -> Vec<Entry> {
    if entries.len() > max && max > 0 {
        let rest = entries.len() - (max - 1);
        entries.truncate(max - 1);
        entries.push(Entry {
            swatch: Swatch::None,
            text: format!("+{rest} more"),
        });
    }
    entries
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    #[test]
    fn long_legends_are_capped() {
        let e = |i: usize| Entry {
            swatch: Swatch::None,
            text: format!("m{i}"),
        };
        let all: Vec<Entry> = (0..50).map(e).collect();
        let c = capped(all.clone(), 12);
        assert_eq!(c.len(), 12);
        assert_eq!(c[11].text, "+39 more");
        assert_eq!(capped(all[..12].to_vec(), 12).len(), 12);
    }
}
