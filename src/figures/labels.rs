//! Placement of point labels: each label goes on the side of its point where it covers the
//! fewest markers, earlier labels and obstacles (the legend), and stays inside the plot.
//! A label that cannot be placed inside the plot without covering another label, a marker
//! or an obstacle is dropped.

use super::geometry::Rect;

/// Where a label may sit relative to its point, in order of preference.
const CANDIDATES: [(f64, f64); 8] = [
    (1.0, 0.0),   // right
    (1.0, -1.0),  // upper right
    (1.0, 1.0),   // lower right
    (-1.0, 0.0),  // left
    (-1.0, -1.0), // upper left
    (-1.0, 1.0),  // lower left
    (0.0, -1.0),  // above
    (0.0, 1.0),   // below
];

/// The box of a `w` x `h` label on side `(sx, sy)` of the point `(x, y)`, `gap` away from it.
fn candidate((x, y): (f64, f64), (w, h): (f64, f64), (sx, sy): (f64, f64), gap: f64) -> Rect {
    let x0 = match sx {
        s if s > 0.0 => x + gap,
        s if s < 0.0 => x - gap - w,
        _ => x - w / 2.0,
    };
    let y0 = match sy {
        s if s > 0.0 => y + 0.6 * gap,
        s if s < 0.0 => y - 0.6 * gap - h,
        _ => y - h / 2.0,
    };
    // Diagonal placements sit a little closer horizontally so they still read as attached.
    let x0 = if sx != 0.0 && sy != 0.0 {
        x0 - sx * 0.4 * gap
    } else {
        x0
    };
    Rect::new(x0, y0, w, h)
}

/// Boxes (device pixels) for labels of sizes `sizes` attached to points `anchors`, whose
/// markers have radius `marker_r`. Labels are placed greedily in input order; `None` for a
/// label dropped because every side would cover more than a sliver of another label or a
/// marker.
pub(crate) fn place(
    anchors: &[(f64, f64)],
    sizes: &[(f64, f64)],
    marker_r: f64,
    bounds: &Rect,
    obstacles: &[Rect],
) -> Vec<Option<Rect>> {
    let markers: Vec<Rect> = anchors
        .iter()
        .map(|&(x, y)| Rect::around(x, y, marker_r * 1.3))
        .collect();
    let gap = marker_r + 3.0_f64.max(0.6 * marker_r);
    let mut placed: Vec<Rect> = Vec::with_capacity(anchors.len());
    let mut out = Vec::with_capacity(anchors.len());
    for (&anchor, &size) in anchors.iter().zip(sizes) {
        let mut best: Option<(f64, f64, Rect)> = None;
        for side in CANDIDATES {
            let r = candidate(anchor, size, side, gap);
            let on_markers = markers.iter().map(|m| r.overlap(m)).sum::<f64>();
            let on_labels = placed.iter().map(|p| r.overlap(p)).sum::<f64>();
            let on_obstacles = obstacles.iter().map(|o| r.overlap(o)).sum::<f64>();
            let cost = 20.0 * r.area_outside(bounds)
                + 3.0 * on_markers
                + 3.0 * on_obstacles
                + 2.0 * on_labels;
            // Anything it covers, or any part outside the plot, rules the label out.
            let clash = on_markers + on_labels + on_obstacles + r.area_outside(bounds);
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, clash, r));
            }
        }
        // Keep a label only if it covers nothing and stays inside the plot.
        match best {
            Some((_, clash, r)) if clash <= 0.0 => {
                placed.push(r);
                out.push(Some(r));
            }
            _ => out.push(None),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolated_label_goes_right_of_its_point() {
        let bounds = Rect::new(0.0, 0.0, 400.0, 300.0);
        let r = place(&[(100.0, 100.0)], &[(40.0, 12.0)], 5.0, &bounds, &[]);
        let r = r[0].unwrap();
        assert!(r.x0 > 100.0 && (r.y0 + r.y1) / 2.0 == 100.0);
    }

    #[test]
    fn label_at_right_edge_flips_left() {
        let bounds = Rect::new(0.0, 0.0, 400.0, 300.0);
        let r = place(&[(395.0, 100.0)], &[(40.0, 12.0)], 5.0, &bounds, &[]);
        assert!(r[0].unwrap().x1 < 395.0, "{:?}", r[0]);
    }

    #[test]
    fn close_points_get_non_overlapping_labels() {
        let bounds = Rect::new(0.0, 0.0, 400.0, 300.0);
        let anchors = [(200.0, 150.0), (204.0, 152.0), (198.0, 156.0)];
        let sizes = [(50.0, 12.0); 3];
        let r: Vec<Rect> = place(&anchors, &sizes, 5.0, &bounds, &[])
            .into_iter()
            .flatten()
            .collect();
        assert!(r.len() >= 2);
        for i in 0..r.len() {
            for j in i + 1..r.len() {
                assert_eq!(r[i].overlap(&r[j]), 0.0, "{:?} {:?}", r[i], r[j]);
            }
        }
    }

    #[test]
    fn labels_avoid_obstacles() {
        let bounds = Rect::new(0.0, 0.0, 400.0, 300.0);
        let legend = Rect::new(106.0, 80.0, 100.0, 40.0);
        let r = place(&[(100.0, 100.0)], &[(40.0, 12.0)], 5.0, &bounds, &[legend]);
        assert_eq!(r[0].unwrap().overlap(&legend), 0.0, "{:?}", r[0]);
    }

    #[test]
    fn crowded_labels_are_dropped() {
        let bounds = Rect::new(0.0, 0.0, 400.0, 300.0);
        // Ten points on top of each other: at most a few labels fit around them.
        let anchors = [(200.0, 150.0); 10];
        let r = place(&anchors, &[(60.0, 12.0); 10], 5.0, &bounds, &[]);
        let kept = r.iter().flatten().count();
        assert!((1..10).contains(&kept), "{kept}");
    }
}
