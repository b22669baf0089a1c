//! What every figure is to the writers: something that draws itself on any plotters
//! backend at a size derived from the page width, and the logical and PNG sizes that
//! follow from the figure options.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::Style;
use super::FigureOptions;

/// What a figure's drawing code returns; the writers turn errors into `FigureError::Draw`.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Something that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Draws on `root`, whose size is the device size; `style` carries the device scale.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, style: &Style) -> DrawResult
    where
        DB::ErrorType: 'static;

    /// Logical height for a logical width; a single plot is 3:4.
    fn height_units(&self, width_units: f64) -> f64 {
        0.75 * width_units
    }
}

/// Logical width and height of `fig` under `opts`, in whole units.
pub(crate) fn logical_size(fig: &impl Figure, opts: &FigureOptions) -> (u32, u32) {
    let w = opts.width_units();
    let h = match opts.height_in {
        Some(h) => h * opts.units_per_inch(),
        None => fig.height_units(w),
    };
    let unit = |v: f64| {
        if v.is_finite() {
            v.round().clamp(0.0, 1e6) as u32
        } else {
            0
        }
    };
    (unit(w), unit(h))
}

/// Device size of the PNG of a figure of logical size `(w, h)`.
pub(crate) fn png_size((w, h): (u32, u32), opts: &FigureOptions) -> (u32, u32) {
    let side = |v: u32| (v as f64 * opts.png_scale()).round().max(1.0) as u32;
    (side(w), side(h))
}
