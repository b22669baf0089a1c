//! The information plane: complexity I(X;Z) on x against expressivity I(Y;Z) on y, one
//! point per model coloured by family, with the information-bottleneck bound y = x.
//!
//! Both quantities come from the soft-entropy estimator normalised by ln m, so the axes
//! are labelled "(normalised)" rather than in bits. Since Z is computed from X, the data
//! processing inequality gives I(Y;Z) <= I(X;Z): models lie on or below the dashed bound.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{chart_points, Chart, Plotted, RefLine};
use super::error::FigureError;
use super::legend::{Entry, Swatch};
use super::output::build_and_write;
use super::style::REFERENCE;
use super::FigureOptions;

/// One model on the information plane.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanePoint {
    /// Short model name, written beside the point when there are few points.
    pub label: String,
    /// Family; points of one family share a colour and shape.
    pub group: Option<String>,
    /// I(X;Z), normalised.
    pub complexity: f64,
    /// I(Y;Z), normalised.
    pub expressivity: f64,
}

pub(crate) const X_LABEL: &str = "complexity I(X;Z) (normalised)";
pub(crate) const Y_LABEL: &str = "expressivity I(Y;Z) (normalised)";
pub(crate) const BOUND_LABEL: &str = "IB bound (I(Y;Z) = I(X;Z))";
/// Points are labelled only up to this many, to keep the plot readable.
pub(crate) const MAX_LABELLED: usize = 12;

/// The chart for `points`, or `None` when no point has finite coordinates.
///
/// The x range is padded around the data; the y range is padded around the data *and* the
/// diagonal over the whole x range, so the bound is visible from edge to edge.
pub(crate) fn plane_chart(points: &[PlanePoint], title: &str) -> Option<Chart> {
    let kept: Vec<&PlanePoint> = points
        .iter()
        .filter(|p| p.complexity.is_finite() && p.expressivity.is_finite())
        .collect();
    let x_range = padded(extent(kept.iter().map(|p| p.complexity))?, PAD);
    let y_data = extent(kept.iter().map(|p| p.expressivity))?;
    let y_range = padded((y_data.0.min(x_range.0), y_data.1.max(x_range.1)), PAD);

    let plotted: Vec<Plotted> = kept
        .iter()
        .map(|p| Plotted {
            x: p.complexity,
            y: p.expressivity,
            group: p.group.as_deref(),
            label: &p.label,
        })
        .collect();
    let (groups, chart_points) = chart_points(&plotted, MAX_LABELLED);

    let legend: Vec<Entry> = groups
        .entries
        .iter()
        .map(|(name, m)| Entry {
            swatch: Swatch::Marker(*m),
            text: name.clone(),
        })
        .collect();
    Some(Chart {
        points: chart_points,
        ..on_plane(title, x_range, y_range, legend)
    })
}

/// A chart on the information plane without data: labelled axes, and the bound drawn
/// dashed across the ranges and named last in `legend`. The model, per-layer and
/// trajectory views all start from it.
pub(crate) fn on_plane(
    title: &str,
    x_range: (f64, f64),
    y_range: (f64, f64),
    mut legend: Vec<Entry>,
) -> Chart {
    let lines: Vec<RefLine> = RefLine::clipped(0.0, 1.0, x_range, y_range, REFERENCE, true)
        .into_iter()
        .collect();
    if !lines.is_empty() {
        legend.push(Entry {
            swatch: Swatch::Line {
                colour: REFERENCE,
                dashed: true,
            },
            text: BOUND_LABEL.to_string(),
        });
    }
    Chart {
        title: title.to_string(),
        x_label: X_LABEL.to_string(),
        y_label: Y_LABEL.to_string(),
        x_range,
        y_range,
        lines,
        legend,
        ..Chart::default()
    }
}

/// Draws the information plane of `points` to `<out_stem>.svg` and/or `<out_stem>.png`
/// (per `opts.formats`) and returns the paths written. Points with a non-finite
/// coordinate are skipped; if none is left the result is [`FigureError::Empty`].
pub fn information_plane(
    points: &[PlanePoint],
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    build_and_write(out_stem, opts, |_| plane_chart(points, title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::output::testing::{png_header_size, render_rgb, scratch_dir, svg_texts};
    use crate::figures::FigureFormat;

    fn pt(label: &str, group: Option<&str>, c: f64, e: f64) -> PlanePoint {
        PlanePoint {
            label: label.into(),
            group: group.map(Into::into),
            complexity: c,
            expressivity: e,
        }
    }

    /// Eight models in three families, like a small study.
    fn study() -> Vec<PlanePoint> {
        vec![
            pt("pythia-70m", Some("pythia"), 0.31, 0.12),
            pt("pythia-160m", Some("pythia"), 0.36, 0.17),
            pt("pythia-410m", Some("pythia"), 0.40, 0.22),
            pt("SmolLM2-135M", Some("smollm2"), 0.33, 0.19),
            pt("SmolLM2-360M", Some("smollm2"), 0.38, 0.24),
            pt("Qwen2.5-0.5B", Some("qwen2.5"), 0.45, 0.27),
            pt("Qwen2.5-1.5B", Some("qwen2.5"), 0.47, 0.31),
            pt("bad", Some("qwen2.5"), f64::NAN, 0.2),
        ]
    }

    fn fifty() -> Vec<PlanePoint> {
        (0..50)
            .map(|i| {
                let t = i as f64 / 49.0;
                let fam = ["a", "b", "c", "d", "e"][i % 5];
                let wobble = ((i * 37) % 11) as f64 / 100.0;
                pt(
                    &format!("m{i}"),
                    Some(fam),
                    0.2 + 0.5 * t,
                    0.1 + 0.3 * t + wobble,
                )
            })
            .collect()
    }

    /// Writes both formats and checks what a reader of the files would see.
    fn check_files(points: &[PlanePoint], case: &str, expect_legend: &[&str]) {
        let dir = scratch_dir(&format!("plane-{case}"));
        let stem = dir.join("plane");
        let opts = FigureOptions::default();
        let written = information_plane(points, "Information plane", &stem, &opts).unwrap();
        assert_eq!(written, vec![dir.join("plane.svg"), dir.join("plane.png")]);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        let svg = std::fs::read_to_string(&written[0]).unwrap();
        // The page width is the study's; the height is what the chart needs (see
        // `chart_draw`), near 3:4 for a plot with its legend inside.
        assert!(svg.starts_with("<svg width=\"7.1583in\" height=\""));
        let height_in: f64 = svg["<svg width=\"7.1583in\" height=\"".len()..]
            .split('"')
            .next()
            .and_then(|h| h.trim_end_matches("in").parse().ok())
            .unwrap();
        assert!((4.0..6.5).contains(&height_in), "{height_in} in");
        let texts = svg_texts(&svg);
        for text in [X_LABEL, Y_LABEL, "Information plane", BOUND_LABEL]
            .iter()
            .chain(expect_legend)
        {
            assert!(
                texts.iter().any(|t| t == text),
                "svg lacks {text:?} in {texts:?}"
            );
        }
        assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));
        assert!(!svg.contains("font-family=\"sans-serif\""));

        let (pw, ph) = png_header_size(&written[1]);
        assert_eq!(pw, 1432);
        assert!(
            (ph as f64 - height_in * 200.0).abs() <= 1.0,
            "{ph} px, {height_in} in"
        );
        let png_len = std::fs::metadata(&written[1]).unwrap().len();
        assert!(png_len > 20_000, "png is only {png_len} bytes");

        let chart = plane_chart(points, "Information plane").unwrap();
        let (_, _, colours) = render_rgb(&chart, &opts);
        assert!(colours > 50, "only {colours} colours");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn study_renders_with_legend_and_labels() {
        let pts = study();
        check_files(
            &pts,
            "study",
            &["pythia", "smollm2", "qwen2.5", "pythia-70m", "Qwen2.5-1.5B"],
        );
        let chart = plane_chart(&pts, "t").unwrap();
        assert_eq!(chart.points.len(), 7, "the NaN point is skipped");
        assert_eq!(chart.legend.len(), 4);
        assert!(chart.points.iter().all(|p| p.label.is_some()));
    }

    #[test]
    fn one_point() {
        check_files(&[pt("solo", None, 0.4, 0.2)], "one", &["solo"]);
    }

    #[test]
    fn two_points() {
        let pts = [pt("a", Some("f"), 0.4, 0.2), pt("b", None, 0.5, 0.35)];
        check_files(
            &pts,
            "two",
            &["a", "b", "f", super::super::markers::NO_GROUP],
        );
    }

    #[test]
    fn fifty_points_are_not_labelled() {
        let pts = fifty();
        check_files(&pts, "fifty", &["a", "e"]);
        let chart = plane_chart(&pts, "t").unwrap();
        assert!(chart.points.iter().all(|p| p.label.is_none()));
    }

    #[test]
    fn all_nan_is_empty() {
        let dir = scratch_dir("plane-empty");
        let pts = [
            pt("x", None, f64::NAN, 0.1),
            pt("y", None, 0.1, f64::INFINITY),
        ];
        let e =
            information_plane(&pts, "t", &dir.join("p"), &FigureOptions::default()).unwrap_err();
        assert!(
            matches!(e, FigureError::Empty { ref name } if name == "p"),
            "{e}"
        );
        assert!(information_plane(&[], "t", &dir.join("p"), &FigureOptions::default()).is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn ranges_pad_the_data_and_show_the_diagonal() {
        let chart = plane_chart(&study(), "t").unwrap();
        let (x0, x1) = chart.x_range;
        let (y0, y1) = chart.y_range;
        assert!(x0 < 0.31 && x1 > 0.47);
        assert!(
            y0 < 0.12 && y1 >= x1,
            "y {y0}..{y1} must cover the diagonal up to {x1}"
        );
        let d = &chart.lines[0];
        assert!(d.dashed && (d.from.0 - x0).abs() < 1e-12 && (d.to.0 - x1).abs() < 1e-12);
    }

    #[test]
    fn only_requested_formats_are_written() {
        let dir = scratch_dir("plane-formats");
        let opts = FigureOptions {
            formats: vec![FigureFormat::Png, FigureFormat::Png],
            width_in: 3.0,
            height_in: None,
            dpi: 120.0,
            style: Default::default(),
        };
        let written = information_plane(&study(), "t", &dir.join("sub").join("p"), &opts).unwrap();
        assert_eq!(written, vec![dir.join("sub").join("p.png")]);
        let (w, h) = png_header_size(&written[0]);
        assert_eq!(w, 360);
        assert!((200..450).contains(&h), "{h}");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The slides style keeps the page width and draws everything 1.5 times larger on it.
    #[test]
    fn the_slides_style_enlarges_text_on_the_same_page() {
        use crate::figures::FigureStyle;
        let dir = scratch_dir("plane-style");
        let render = |style: FigureStyle| {
            let opts = FigureOptions {
                formats: vec![FigureFormat::Svg, FigureFormat::Png],
                style,
                ..FigureOptions::default()
            };
            let written =
                information_plane(&study(), "t", &dir.join(format!("{style:?}")), &opts).unwrap();
            let svg = std::fs::read_to_string(&written[0]).unwrap();
            let attr = |key: &str| -> Vec<String> {
                svg.split(key)
                    .skip(1)
                    .filter_map(|r| r.split('"').next().map(str::to_string))
                    .collect()
            };
            let font = attr("font-size=\"")
                .iter()
                .filter_map(|v| v.trim_end_matches("px").parse::<f64>().ok())
                .fold(0.0, f64::max);
            let view_width: f64 = attr("viewBox=\"")[0]
                .split_whitespace()
                .nth(2)
                .unwrap()
                .parse()
                .unwrap();
            let page_width = attr("width=\"")[0].clone();
            // Text size as a fraction of the page width, the page width, and the PNG size.
            (font / view_width, page_width, png_header_size(&written[1]))
        };
        let (paper, paper_page, paper_png) = render(FigureStyle::Paper);
        let (slides, slides_page, slides_png) = render(FigureStyle::Slides);
        assert!(
            paper > 0.0 && (slides / paper - 1.5).abs() < 0.02,
            "text share of the width {paper} vs {slides}"
        );
        // The same page, up to rounding the layout to whole units.
        let inches = |w: &str| w.trim_end_matches("in").parse::<f64>().unwrap();
        assert!(
            (inches(&paper_page) - inches(&slides_page)).abs() < 0.01,
            "{paper_page} vs {slides_page}"
        );
        // The same width; the height is what each layout needs (larger text takes more).
        assert!(
            paper_png.0.abs_diff(slides_png.0) <= 3 && slides_png.1 >= paper_png.1,
            "{paper_png:?} vs {slides_png:?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn empty_title_and_blank_labels_render() {
        let mut pts = study();
        pts[0].label = "  ".into();
        let chart = plane_chart(&pts, "").unwrap();
        assert!(chart.points[0].label.is_none());
        let (_, _, colours) = render_rgb(&chart, &FigureOptions::default());
        assert!(colours > 50);
    }

    #[test]
    fn png_text_is_rasterised() {
        // The title strip holds only text: it must contain dark, anti-aliased pixels.
        let chart = plane_chart(&study(), "Information plane").unwrap();
        let opts = FigureOptions::default();
        let (buf, (w, _), _) = render_rgb(&chart, &opts);
        let strip = &buf[..(w as usize * 3 * 40)];
        let dark = strip
            .chunks_exact(3)
            .filter(|c| c[0] < 80 && c[1] < 80 && c[2] < 80)
            .count();
        let grey = strip
            .chunks_exact(3)
            .filter(|c| c[0] > 100 && c[0] < 200)
            .count();
        assert!(dark > 200 && grey > 50, "dark {dark}, grey {grey}");
    }
}
