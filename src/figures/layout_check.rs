//! The layout rules every figure must keep, checked on what a figure really draws.
//!
//! A recording plotters backend stands in for the PNG backend: it keeps every primitive
//! the figure draws, in order, and sets text exactly as the bitmap backend does (plotters'
//! default `draw_text`: the same anchor arithmetic and rotation, glyphs rasterised by
//! ab_glyph from the embedded DejaVu Sans), so a text's box is the box of its inked pixels,
//! not an estimate from character counts. [`violations`] then applies the rules:
//! - every text and every mark lies inside the canvas;
//! - no two texts overlap;
//! - no text covers a marker;
//! - no legend (a framed box) covers anything drawn before it: markers, lines, intervals,
//!   paths or text (what is drawn after it and inside it is the legend's own content).
//!
//! `write_figure` calls [`record`] when a test has asked for it with [`collect`], so a test
//! can build a report's figures from tables in memory (writing no file) and check them all.

use std::cell::RefCell;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::{
    text_anchor::{HPos, VPos},
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

use super::figure::{logical_size, png_size, Figure};
use super::geometry::Rect;
use super::style::{Style, Target, FRAME, GRID};
use super::FigureOptions;

/// What a primitive is, as far as the rules care.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Text(String),
    /// A circle or an opaque filled polygon: a point's marker.
    Marker,
    /// A stroked polyline or line segment (points in device pixels).
    Line(Vec<(f64, f64)>),
    /// A legend frame.
    Legend,
    /// Fills, grid lines, translucent bands: nothing a rule is about.
    Other,
}

/// One recorded primitive and its bounding box in device pixels.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prim {
    pub kind: Kind,
    pub bbox: Rect,
}

/// Everything one figure drew, with the canvas size.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub name: String,
    pub size: (u32, u32),
    pub prims: Vec<Prim>,
}

#[derive(Debug)]
pub(crate) struct NoError;
impl std::fmt::Display for NoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("recording")
    }
}
impl std::error::Error for NoError {}

/// The recording backend.
pub(crate) struct Recorder {
    size: (u32, u32),
    prims: std::rc::Rc<RefCell<Vec<Prim>>>,
}

fn same(c: BackendColor, rgb: RGBColor) -> bool {
    c.rgb == (rgb.0, rgb.1, rgb.2)
}

fn bbox_of(points: &[(f64, f64)], pad: f64) -> Rect {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in points {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    Rect {
        x0: x0 - pad,
        y0: y0 - pad,
        x1: x1 + pad,
        y1: y1 + pad,
    }
}

impl Recorder {
    fn push(&mut self, kind: Kind, bbox: Rect) {
        self.prims.borrow_mut().push(Prim { kind, bbox });
    }

    fn stroke(&mut self, pts: Vec<(f64, f64)>, style: &impl BackendStyle) {
        let c = style.color();
        if c.alpha < 0.05 || pts.is_empty() {
            return;
        }
        let bbox = bbox_of(&pts, style.stroke_width() as f64 / 2.0);
        let closed_box = pts.len() == 5 && pts[0] == pts[4];
        let kind = if same(c, FRAME) && closed_box {
            Kind::Legend
        } else if same(c, GRID) || c.rgb == (255, 255, 255) {
            Kind::Other
        } else {
            Kind::Line(pts)
        };
        self.push(kind, bbox);
    }
}

fn f(p: BackendCoord) -> (f64, f64) {
    (p.0 as f64, p.1 as f64)
}

impl DrawingBackend for Recorder {
    type ErrorType = NoError;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn draw_pixel(
        &mut self,
        _: BackendCoord,
        _: BackendColor,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        Ok(())
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        self.stroke(vec![f(a), f(b)], style);
        Ok(())
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        self.stroke(path.into_iter().map(f).collect(), style);
        Ok(())
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        _style: &S,
        _fill: bool,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        self.push(Kind::Other, bbox_of(&[f(a), f(b)], 0.0));
        Ok(())
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        c: BackendCoord,
        r: u32,
        style: &S,
        _fill: bool,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        if style.color().alpha > 0.05 {
            let r = r as f64;
            let (x, y) = f(c);
            self.push(Kind::Marker, Rect::around(x, y, r));
        }
        Ok(())
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        let pts: Vec<_> = vert.into_iter().map(f).collect();
        if pts.is_empty() {
            return Ok(());
        }
        // Markers are opaque; confidence bands are light and translucent.
        let kind = if style.color().alpha > 0.5 {
            Kind::Marker
        } else {
            Kind::Other
        };
        self.push(kind, bbox_of(&pts, 0.0));
        Ok(())
    }

    /// As plotters' default `draw_text` (which the bitmap backend uses), but the inked
    /// pixels, inside the canvas or not, give the text's box.
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<NoError>> {
        if style.color().alpha == 0.0 || text.trim().is_empty() {
            return Ok(());
        }
        let layout = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let ((min_x, min_y), (max_x, max_y)) = layout;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let mut ink: Option<(i32, i32, i32, i32)> = None;
        let drawn = style.draw(text, (0, 0), |x, y, colour| {
            if colour.alpha > 0.15 {
                let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
                let (x, y) = (pos.0 + x, pos.1 + y);
                ink = Some(match ink {
                    None => (x, y, x, y),
                    Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
                });
            }
            Ok::<(), NoError>(())
        });
        match drawn {
            Ok(r) => r.map_err(DrawingErrorKind::DrawingError)?,
            Err(e) => return Err(DrawingErrorKind::FontError(Box::new(e))),
        }
        if let Some((x0, y0, x1, y1)) = ink {
            let bbox = Rect {
                x0: x0 as f64,
                y0: y0 as f64,
                x1: x1 as f64 + 1.0,
                y1: y1 as f64 + 1.0,
            };
            self.push(Kind::Text(text.to_string()), bbox);
        }
        Ok(())
    }
}

/// Draws `fig` as its PNG would be drawn and returns what it drew.
pub(crate) fn layout_of(fig: &impl Figure, name: &str, opts: &FigureOptions) -> Layout {
    assert!(super::style::ensure_fonts());
    let size = png_size(logical_size(fig, opts), opts);
    let prims = std::rc::Rc::new(RefCell::new(Vec::new()));
    {
        let rec = Recorder {
            size,
            prims: prims.clone(),
        };
        let root: DrawingArea<Recorder, Shift> = rec.into_drawing_area();
        fig.draw(&root, &Style::new(opts.png_scale(), Target::Raster))
            .unwrap_or_else(|e| panic!("{name}: draw failed: {e}"));
    }
    let prims = prims.borrow().clone();
    Layout {
        name: name.to_string(),
        size,
        prims,
    }
}

/// Overlap of two boxes along both axes, in pixels (0 when they do not meet).
fn overlap(a: &Rect, b: &Rect) -> (f64, f64) {
    (
        (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0),
        (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0),
    )
}

fn meets(a: &Rect, b: &Rect, tol: f64) -> bool {
    let (w, h) = overlap(a, b);
    w > tol && h > tol
}

/// Whether the segment a–b passes through the inside of `r` (shrunk by `tol`).
fn segment_hits(a: (f64, f64), b: (f64, f64), r: &Rect, tol: f64) -> bool {
    let r = Rect {
        x0: r.x0 + tol,
        y0: r.y0 + tol,
        x1: r.x1 - tol,
        y1: r.y1 - tol,
    };
    let n = (((b.0 - a.0).hypot(b.1 - a.1)) / 0.5).ceil().max(1.0) as usize;
    (0..=n).any(|i| {
        let t = i as f64 / n as f64;
        let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        x > r.x0 && x < r.x1 && y > r.y0 && y < r.y1
    })
}

fn label(p: &Prim) -> String {
    match &p.kind {
        Kind::Text(t) => format!("text {t:?}"),
        Kind::Marker => "marker".into(),
        Kind::Line(_) => "line".into(),
        Kind::Legend => "legend".into(),
        Kind::Other => "fill".into(),
    }
}

/// Every broken rule of `layout`, one line each (empty: the figure keeps them all).
pub(crate) fn violations(layout: &Layout) -> Vec<String> {
    let (w, h) = (layout.size.0 as f64, layout.size.1 as f64);
    let canvas = Rect {
        x0: -0.5,
        y0: -0.5,
        x1: w + 0.5,
        y1: h + 0.5,
    };
    // One device pixel of antialiasing may touch.
    let tol = 1.0;
    let mut out = Vec::new();
    let prims = &layout.prims;
    let at = |b: &Rect| format!("[{:.0},{:.0} – {:.0},{:.0}]", b.x0, b.y0, b.x1, b.y1);
    for p in prims {
        if matches!(p.kind, Kind::Other) {
            continue;
        }
        let b = &p.bbox;
        if b.x0 < canvas.x0 || b.y0 < canvas.y0 || b.x1 > canvas.x1 || b.y1 > canvas.y1 {
            out.push(format!("{} {} leaves the {w}x{h} canvas", label(p), at(b)));
        }
    }
    let texts: Vec<&Prim> = prims
        .iter()
        .filter(|p| matches!(p.kind, Kind::Text(_)))
        .collect();
    for (i, a) in texts.iter().enumerate() {
        for b in &texts[i + 1..] {
            if meets(&a.bbox, &b.bbox, tol) {
                out.push(format!(
                    "{} {} overlaps {} {}",
                    label(a),
                    at(&a.bbox),
                    label(b),
                    at(&b.bbox)
                ));
            }
        }
        for m in prims.iter().filter(|p| p.kind == Kind::Marker) {
            if meets(&a.bbox, &m.bbox, tol) {
                out.push(format!(
                    "{} {} covers a marker {}",
                    label(a),
                    at(&a.bbox),
                    at(&m.bbox)
                ));
            }
        }
    }
    for (k, legend) in prims.iter().enumerate() {
        if legend.kind != Kind::Legend {
            continue;
        }
        let r = &legend.bbox;
        for p in &prims[..k] {
            let hit = match &p.kind {
                Kind::Marker | Kind::Text(_) => meets(r, &p.bbox, tol),
                Kind::Line(pts) => pts.windows(2).any(|s| segment_hits(s[0], s[1], r, tol)),
                Kind::Legend | Kind::Other => false,
            };
            if hit {
                out.push(format!(
                    "legend {} covers {} {}",
                    at(r),
                    label(p),
                    at(&p.bbox)
                ));
            }
        }
    }
    out
}

thread_local! {
    static COLLECTED: RefCell<Option<Vec<Layout>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns the layout of every figure it asked `write_figure` for.
pub(crate) fn collect(f: impl FnOnce()) -> Vec<Layout> {
    COLLECTED.with(|c| *c.borrow_mut() = Some(Vec::new()));
    f();
    COLLECTED.with(|c| c.borrow_mut().take().unwrap_or_default())
}

/// Called by `write_figure`: records the layout of `fig` when [`collect`] is running.
pub(crate) fn record(fig: &impl Figure, name: &str, opts: &FigureOptions) {
    let on = COLLECTED.with(|c| c.borrow().is_some());
    if on {
        let layout = layout_of(fig, name, opts);
        COLLECTED.with(|c| {
            if let Some(v) = c.borrow_mut().as_mut() {
                v.push(layout)
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_boxes() {
        let r = Rect::new(10.0, 10.0, 20.0, 20.0);
        assert!(segment_hits((0.0, 20.0), (40.0, 20.0), &r, 1.0));
        assert!(!segment_hits((0.0, 0.0), (40.0, 0.0), &r, 1.0));
        assert!(meets(&r, &Rect::new(25.0, 25.0, 10.0, 10.0), 1.0));
        assert!(!meets(&r, &Rect::new(29.5, 25.0, 10.0, 10.0), 1.0));
    }
}
