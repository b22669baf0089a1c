//! Pixel-space rectangles, used to keep labels and the legend clear of points, and the
//! chart coordinates they are measured in.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The coordinates of every chart: linear in x and y.
pub(crate) type Cart = Cartesian2d<RangedCoordf64, RangedCoordf64>;

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

/// The device pixel of the data point `(x, y)`.
pub(crate) fn pixel<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Cart>,
    (x, y): (f64, f64),
) -> (f64, f64) {
    let (px, py) = chart.backend_coord(&(x, y));
    (px as f64, py as f64)
}

/// An axis-aligned rectangle in device pixels (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub(crate) fn new(x0: f64, y0: f64, w: f64, h: f64) -> Self {
        Self {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        }
    }

    /// The square of half-side `r` around a point.
    pub(crate) fn around(x: f64, y: f64, r: f64) -> Self {
        Self {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }

    pub(crate) fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    pub(crate) fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// Area shared with another rectangle (0 when they do not meet).
    pub(crate) fn overlap(&self, other: &Rect) -> f64 {
        let w = self.x1.min(other.x1) - self.x0.max(other.x0);
        let h = self.y1.min(other.y1) - self.y0.max(other.y0);
        if w > 0.0 && h > 0.0 {
            w * h
        } else {
            0.0
        }
    }

    /// Area of this rectangle lying outside `bounds`.
    pub(crate) fn area_outside(&self, bounds: &Rect) -> f64 {
        self.width() * self.height() - self.overlap(bounds)
    }

    pub(crate) fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_and_outside() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        let b = Rect::new(5.0, 5.0, 10.0, 10.0);
        assert_eq!(a.overlap(&b), 25.0);
        assert_eq!(b.overlap(&a), 25.0);
        assert_eq!(a.overlap(&Rect::new(20.0, 0.0, 1.0, 1.0)), 0.0);
        assert_eq!(b.area_outside(&a), 75.0);
        assert!(a.contains(10.0, 0.0) && !a.contains(10.5, 0.0));
        assert_eq!(Rect::around(1.0, 1.0, 1.0), Rect::new(0.0, 0.0, 2.0, 2.0));
    }
}
