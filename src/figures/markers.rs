//! Point markers: each group (model family) gets its own colour *and* shape, so groups stay
//! distinct in greyscale and for colour-blind readers; markers are drawn in device pixels.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{INK, PALETTE, UNGROUPED};

/// Marker outline shapes, in the order they are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

const SHAPES: [Shape; 4] = [
    Shape::Circle,
    Shape::Square,
    Shape::Triangle,
    Shape::Diamond,
];

/// How one point is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Marker {
    pub colour: RGBColor,
    pub shape: Shape,
}

/// Label shown in the legend for points without a group, when other points have one.
pub(crate) const NO_GROUP: &str = "(no group)";

/// The marker of every point and the legend entries of the groups.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Groups {
    /// One entry per group, in order of first appearance (`NO_GROUP` last); empty when no
    /// point has a group, since a one-colour plot needs no legend.
    pub entries: Vec<(String, Marker)>,
    /// The marker of each input point.
    pub of_point: Vec<Marker>,
}

/// Marker for the `i`-th group: colours cycle through the palette, and the shape changes
/// both within a cycle and between cycles, so the first 32 groups are all distinct.
fn group_marker(i: usize) -> Marker {
    Marker {
        colour: PALETTE[i % PALETTE.len()],
        shape: SHAPES[(i + i / PALETTE.len()) % SHAPES.len()],
    }
}

/// Assigns markers to points from their (optional) group names.
pub(crate) fn assign(groups: &[Option<&str>]) -> Groups {
    if groups.iter().all(|g| g.is_none()) {
        let m = group_marker(0);
        return Groups {
            entries: Vec::new(),
            of_point: vec![m; groups.len()],
        };
    }
    let mut names: Vec<&str> = Vec::new();
    for g in groups.iter().flatten() {
        if !names.contains(g) {
            names.push(g);
        }
    }
    let ungrouped = Marker {
        colour: UNGROUPED,
        shape: Shape::Circle,
    };
    let of_point = groups
        .iter()
        .map(|g| match g {
            Some(g) => group_marker(names.iter().position(|n| n == g).unwrap_or(0)),
            None => ungrouped,
        })
        .collect();
    let mut entries: Vec<(String, Marker)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), group_marker(i)))
        .collect();
    if groups.iter().any(|g| g.is_none()) {
        entries.push((NO_GROUP.to_string(), ungrouped));
    }
    Groups { entries, of_point }
}

/// Up to this many models get a colour each; beyond it, colour follows the family.
pub(crate) const MAX_COLOURED_MODELS: usize = 8;

/// Markers for lines of many models: one per model when there are few, else one per group
/// (so 50 models in 5 families give 5 colours and a 5-row legend).
pub(crate) fn by_model_or_group(labels: &[&str], groups: &[Option<&str>]) -> Groups {
    if labels.len() <= MAX_COLOURED_MODELS {
        assign(&labels.iter().map(|l| Some(*l)).collect::<Vec<_>>())
    } else {
        assign(groups)
    }
}

/// Draws a filled marker with a thin dark outline centred on `(x, y)` (device pixels);
/// `r` is the radius of a circle of the same visual weight.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (f64, f64),
    r: f64,
    outline_width: u32,
    marker: &Marker,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let fill = marker.colour.filled();
    let outline = ShapeStyle {
        color: INK.to_rgba(),
        filled: false,
        stroke_width: outline_width,
    };
    let p = |dx: f64, dy: f64| ((x + dx).round() as i32, (y + dy).round() as i32);
    match marker.shape {
        Shape::Circle => {
            let ri = r.round().max(1.0) as i32;
            area.draw(&Circle::new(p(0.0, 0.0), ri, fill))?;
            area.draw(&Circle::new(p(0.0, 0.0), ri, outline))
        }
        Shape::Square => {
            let h = 0.886 * r; // same area as the circle
            let pts = vec![p(-h, -h), p(h, -h), p(h, h), p(-h, h)];
            polygon(area, pts, fill, outline)
        }
        Shape::Triangle => {
            let t = 1.35 * r;
            let pts = vec![p(0.0, -t), p(0.866 * t, 0.5 * t), p(-0.866 * t, 0.5 * t)];
            polygon(area, pts, fill, outline)
        }
        Shape::Diamond => {
            let d = 1.25 * r;
            let pts = vec![p(0.0, -d), p(d, 0.0), p(0.0, d), p(-d, 0.0)];
            polygon(area, pts, fill, outline)
        }
    }
}

/// A filled polygon and its outline (a closed path: plotters' SVG rectangles ignore the
/// stroke width).
pub(crate) fn polygon<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pts: Vec<(i32, i32)>,
    fill: ShapeStyle,
    outline: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.draw(&Polygon::new(pts.clone(), fill))?;
    let mut closed = pts;
    closed.push(closed[0]);
    area.draw(&PathElement::new(closed, outline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_groups_means_one_marker_and_no_legend() {
        let g = assign(&[None, None]);
        assert!(g.entries.is_empty());
        assert_eq!(g.of_point[0], g.of_point[1]);
    }

    #[test]
    fn groups_in_order_of_appearance_with_ungrouped_last() {
        let g = assign(&[Some("qwen"), None, Some("pythia"), Some("qwen")]);
        let names: Vec<_> = g.entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["qwen", "pythia", NO_GROUP]);
        assert_eq!(g.of_point[0], g.of_point[3]);
        assert_ne!(g.of_point[0], g.of_point[2]);
        assert_eq!(g.of_point[1].colour, UNGROUPED);
    }

    #[test]
    fn few_models_get_their_own_colour() {
        let g = by_model_or_group(&["a", "b"], &[Some("f"), Some("f")]);
        assert_eq!(g.entries.len(), 2);
        let labels: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let groups: Vec<Option<&str>> = (0..50).map(|i| Some(["x", "y"][i % 2])).collect();
        assert_eq!(by_model_or_group(&refs, &groups).entries.len(), 2);
    }

    #[test]
    fn first_32_groups_are_distinct() {
        let ms: Vec<_> = (0..32).map(group_marker).collect();
        for i in 0..ms.len() {
            for j in i + 1..ms.len() {
                assert_ne!(ms[i], ms[j], "groups {i} and {j}");
            }
        }
    }
}
