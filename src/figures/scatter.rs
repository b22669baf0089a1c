//! A benchmark score against one feature: one point per model, an OLS line with its 95%
//! confidence band, and a box giving Spearman's rho (with the fit stage's permutation
//! p-value when given) and n, plus the group legend, placed where it hides no point.
//! Several scores give one panel each.

use std::path::{Path, PathBuf};

use super::axes::{extent, padded, PAD};
use super::chart::{chart_points, Chart, Plotted, RefLine};
use super::error::FigureError;
use super::legend::{capped, MAX_ENTRIES};
use super::legend::{Entry, Swatch};
use super::output::build_and_write;
use super::panels::Panels;
use super::plane::MAX_LABELLED;
use super::series::Band;
use super::stats::{ols, spearman, Fit};
use super::style::INK;
use super::FigureOptions;

/// One model: a feature value `x` and a score `y`.
#[derive(Debug, Clone, PartialEq)]
pub struct XyPoint {
    /// Short model name, written beside the point when there are few points.
    pub label: String,
    /// Family; points of one family share a colour and shape.
    pub group: Option<String>,
    /// The feature (x axis).
    pub x: f64,
    /// The score (y axis).
    pub y: f64,
}

/// Spearman's rho and its p-value as computed elsewhere (the fit stage's permutation test).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RhoNote {
    pub rho: f64,
    pub p_value: f64,
}

/// One panel of a multi-score figure: the score's name (its y label), points and note.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePanel {
    pub score: String,
    pub points: Vec<XyPoint>,
    pub note: Option<RhoNote>,
}

/// The statistics line, e.g. "Spearman ρ = 0.83, n = 12".
fn stats_text(rho: Option<f64>, n: usize) -> String {
    match rho {
        Some(r) => format!("Spearman ρ = {}, n = {n}", format_rho(r)),
        None => format!("Spearman ρ = n/a, n = {n}"),
    }
}

/// "Spearman ρ = 0.83 (p = 0.012), n = 12".
fn note_text(note: RhoNote, n: usize) -> String {
    if !note.rho.is_finite() {
        return stats_text(None, n);
    }
    let p = if note.p_value.is_finite() {
        format!(" (p = {})", super::predicted::significant(note.p_value, 2))
    } else {
        String::new()
    };
    format!("Spearman ρ = {}{p}, n = {n}", format_rho(note.rho))
}

fn format_rho(r: f64) -> String {
    let s = format!("{r:.2}");
    if s == "-0.00" {
        "0.00".to_string()
    } else {
        s.replace('-', "\u{2212}") // a true minus sign
    }
}

/// The chart for `points`, or `None` when no point has finite coordinates.
pub(crate) fn scatter_chart(
    points: &[XyPoint],
    x_label: &str,
    y_label: &str,
    title: &str,
    note: Option<RhoNote>,
    panel: bool,
) -> Option<Chart> {
    let kept: Vec<&XyPoint> = points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .collect();
    let x_range = padded(extent(kept.iter().map(|p| p.x))?, PAD);
    let y_range = padded(extent(kept.iter().map(|p| p.y))?, PAD);
    let xs: Vec<f64> = kept.iter().map(|p| p.x).collect();
    let ys: Vec<f64> = kept.iter().map(|p| p.y).collect();

    let plotted: Vec<Plotted> = kept
        .iter()
        .map(|p| Plotted {
            x: p.x,
            y: p.y,
            group: p.group.as_deref(),
            label: &p.label,
        })
        .collect();
    let (groups, chart_points) = chart_points(&plotted, MAX_LABELLED);

    let text = match note {
        Some(n) => note_text(n, kept.len()),
        None => stats_text(spearman(&xs, &ys), kept.len()),
    };
    // A panel writes its statistics under its title (and shares the rest of its legend
    // with the other panels); a single chart lists them in its legend.
    let mut subtitle = String::new();
    let mut legend = Vec::new();
    if panel {
        subtitle = text;
    } else {
        legend.push(Entry {
            swatch: Swatch::None,
            text,
        });
    }
    let (lines, bands) = ols_overlay(
        &xs,
        &ys,
        (x_range, y_range),
        panel,
        &mut subtitle,
        &mut legend,
    );
    legend.extend(capped(
        groups
            .entries
            .iter()
            .map(|(name, m)| Entry {
                swatch: Swatch::Marker(*m),
                text: name.clone(),
            })
            .collect(),
        MAX_ENTRIES,
    ));
    Some(Chart {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        x_range,
        y_range,
        points: chart_points,
        lines,
        legend,
        bands,
        subtitle,
        panel,
        ..Chart::default()
    })
}

/// The OLS line of `ys` on `xs` clipped to the plot, its 95% confidence band, and the
/// legend entry naming them (with R², which a panel writes in its `subtitle` instead).
fn ols_overlay(
    xs: &[f64],
    ys: &[f64],
    (x_range, y_range): ((f64, f64), (f64, f64)),
    panel: bool,
    subtitle: &mut String,
    legend: &mut Vec<Entry>,
) -> (Vec<RefLine>, Vec<Band>) {
    let Some(fit) = ols(xs, ys) else {
        return (vec![], vec![]);
    };
    let bands: Vec<Band> = ols_band(&fit, x_range).into_iter().collect();
    let Some(line) = RefLine::clipped(fit.intercept, fit.slope, x_range, y_range, INK, false)
    else {
        return (vec![], bands);
    };
    let text = match (panel, bands.is_empty()) {
        (false, true) => format!("OLS fit (R² = {:.2})", fit.r2),
        (false, false) => format!("OLS fit (R² = {:.2}), {BAND_LABEL}", fit.r2),
        (true, true) => "OLS fit".to_string(),
        (true, false) => format!("OLS fit, {BAND_LABEL}"),
    };
    let swatch = if bands.is_empty() {
        Swatch::Line {
            colour: INK,
            dashed: false,
        }
    } else {
        Swatch::Band(INK)
    };
    legend.push(Entry { swatch, text });
    if panel {
        *subtitle = format!("{subtitle}, R² = {:.2}", fit.r2);
    }
    (vec![line], bands)
}

/// The fit's 95% confidence band over 49 points across `x_range`, when it has one.
fn ols_band(fit: &Fit, x_range: (f64, f64)) -> Option<Band> {
    let grid: Vec<f64> = (0..=48)
        .map(|i| x_range.0 + (x_range.1 - x_range.0) * i as f64 / 48.0)
        .collect();
    let half: Vec<f64> = grid
        .iter()
        .map(|&x| fit.band_half_width(x))
        .collect::<Option<_>>()?;
    let mid: Vec<f64> = grid
        .iter()
        .map(|&x| fit.intercept + fit.slope * x)
        .collect();
    Some(Band {
        lower: mid.iter().zip(&half).map(|(m, h)| m - h).collect(),
        upper: mid.iter().zip(&half).map(|(m, h)| m + h).collect(),
        xs: grid,
        colour: INK,
        opacity: 0.12,
    })
}

pub(crate) const BAND_LABEL: &str = "95% band";

/// One panel per score, in as many columns as the width holds (one to three); every panel
/// has its own statistics under its title.
pub(crate) fn score_panels(
    panels: &[ScorePanel],
    x_label: &str,
    title: &str,
    width_units: f64,
) -> Option<Panels> {
    let charts: Vec<Option<Chart>> = panels
        .iter()
        .filter_map(|p| {
            let c = scatter_chart(&p.points, x_label, &p.score, &p.score, p.note, true)?;
            Some(Some(c))
        })
        .collect();
    if charts.is_empty() {
        return None;
    }
    // One legend for every panel, drawn once outside them: the fullest panel's.
    let legend = charts
        .iter()
        .flatten()
        .map(|c| c.legend.clone())
        .max_by_key(Vec::len)
        .unwrap_or_default();
    let charts: Vec<Option<Chart>> = charts
        .into_iter()
        .map(|c| {
            c.map(|mut c| {
                c.legend.clear();
                c
            })
        })
        .collect();
    // Panels about 280 units wide: narrower ones leave too little of the panel to the plot.
    let columns = match width_units {
        w if w >= 800.0 => 3,
        w if w >= 500.0 => 2,
        _ => 1,
    }
    .min(charts.len());
    Some(Panels {
        title: title.to_string(),
        charts,
        columns,
        aspect: 0.75,
        legend,
    })
}

/// Draws each score against the feature `x_label`, one panel per score (a single score gives
/// a plain chart titled `title`). Points with a non-finite coordinate are skipped.
pub fn scores_vs_feature(
    panels: &[ScorePanel],
    x_label: &str,
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    if let [one] = panels {
        return build_and_write(out_stem, opts, |_| {
            scatter_chart(&one.points, x_label, &one.score, title, one.note, false)
        });
    }
    build_and_write(out_stem, opts, |width| {
        score_panels(panels, x_label, title, width)
    })
}

/// Draws `y` (a score) against `x` (a feature) with an OLS line and Spearman's rho, to
/// `<out_stem>.svg` and/or `<out_stem>.png`, and returns the paths written. Points with a
/// non-finite coordinate are skipped; if none is left the result is [`FigureError::Empty`].
pub fn score_vs_feature(
    points: &[XyPoint],
    x_label: &str,
    y_label: &str,
    title: &str,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    build_and_write(out_stem, opts, |_| {
        scatter_chart(points, x_label, y_label, title, None, false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::output::testing::{png_header_size, render_rgb, scratch_dir, svg_texts};

    const XL: &str = "optimality I(Y;Z) / I(X;Z) at layer 12";
    const YL: &str = "MMLU accuracy";

    fn xy(label: &str, group: Option<&str>, x: f64, y: f64) -> XyPoint {
        XyPoint {
            label: label.into(),
            group: group.map(Into::into),
            x,
            y,
        }
    }

    fn study() -> Vec<XyPoint> {
        vec![
            xy("pythia-70m", Some("pythia"), 0.39, 0.231),
            xy("pythia-160m", Some("pythia"), 0.47, 0.243),
            xy("pythia-410m", Some("pythia"), 0.55, 0.262),
            xy("SmolLM2-135M", Some("smollm2"), 0.58, 0.301),
            xy("SmolLM2-360M", Some("smollm2"), 0.63, 0.352),
            xy("Qwen2.5-0.5B", Some("qwen2.5"), 0.60, 0.474),
            xy("Qwen2.5-1.5B", Some("qwen2.5"), 0.66, 0.601),
            xy("nan", Some("qwen2.5"), 0.7, f64::NAN),
        ]
    }

    fn check_files(points: &[XyPoint], case: &str, expect: &[&str]) -> Chart {
        let dir = scratch_dir(&format!("scatter-{case}"));
        let stem = dir.join("score");
        let opts = FigureOptions::default();
        let written = score_vs_feature(points, XL, YL, "MMLU vs optimality", &stem, &opts).unwrap();
        assert_eq!(written, vec![dir.join("score.svg"), dir.join("score.png")]);
        let texts = svg_texts(&std::fs::read_to_string(&written[0]).unwrap());
        for text in [XL, YL, "MMLU vs optimality"].iter().chain(expect) {
            assert!(
                texts.iter().any(|t| t == text),
                "svg lacks {text:?} in {texts:?}"
            );
        }
        let (pw, ph) = png_header_size(&written[1]);
        assert!(pw == 1432 && (800..1300).contains(&ph), "{pw}x{ph}");
        assert!(std::fs::metadata(&written[1]).unwrap().len() > 20_000);
        let chart = scatter_chart(points, XL, YL, "MMLU vs optimality", None, false).unwrap();
        let (_, _, colours) = render_rgb(&chart, &opts);
        assert!(colours > 50, "only {colours} colours");
        let _ = std::fs::remove_dir_all(dir);
        chart
    }

    #[test]
    fn study_has_fit_rho_and_groups() {
        let chart = check_files(
            &study(),
            "study",
            &[
                "Spearman ρ = 0.96, n = 7",
                "OLS fit (R² = 0.59), 95% band",
                "pythia",
                "qwen2.5",
                "SmolLM2-360M",
            ],
        );
        assert_eq!(chart.points.len(), 7);
        assert_eq!(chart.lines.len(), 1);
    }

    #[test]
    fn one_point_has_no_fit() {
        let chart = check_files(
            &[xy("solo", None, 1.0, 2.0)],
            "one",
            &["Spearman ρ = n/a, n = 1", "solo"],
        );
        assert!(chart.lines.is_empty());
        assert_eq!(chart.legend.len(), 1);
    }

    #[test]
    fn two_points() {
        let pts = [xy("a", None, 1.0, 3.0), xy("b", None, 2.0, 1.0)];
        check_files(
            &pts,
            "two",
            &["Spearman ρ = \u{2212}1.00, n = 2", "OLS fit (R² = 1.00)"],
        );
    }

    #[test]
    fn fifty_points() {
        let pts: Vec<_> = (0..50)
            .map(|i| {
                let x = i as f64;
                let g = if i % 2 == 0 { "even" } else { "odd" };
                xy(
                    &format!("m{i}"),
                    Some(g),
                    x,
                    40.0 + 0.5 * x + ((i * 7) % 13) as f64,
                )
            })
            .collect();
        let chart = check_files(&pts, "fifty", &["even", "odd"]);
        assert!(chart.points.iter().all(|p| p.label.is_none()));
    }

    #[test]
    fn all_nan_is_empty() {
        let dir = scratch_dir("scatter-empty");
        let pts = [
            xy("a", None, f64::NAN, 1.0),
            xy("b", None, 1.0, f64::NEG_INFINITY),
        ];
        let e = score_vs_feature(&pts, XL, YL, "t", &dir.join("s"), &FigureOptions::default())
            .unwrap_err();
        assert!(
            matches!(e, FigureError::Empty { ref name } if name == "s"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn rho_text() {
        assert_eq!(stats_text(Some(0.8349), 12), "Spearman ρ = 0.83, n = 12");
        assert_eq!(stats_text(Some(-0.0001), 3), "Spearman ρ = 0.00, n = 3");
        assert_eq!(stats_text(None, 1), "Spearman ρ = n/a, n = 1");
    }

    #[test]
    fn special_characters_in_labels_are_escaped() {
        let dir = scratch_dir("scatter-escape");
        let pts = [
            xy("a<b>&c", Some("\"q\""), 1.0, 2.0),
            xy("d", None, 2.0, 3.0),
        ];
        let written = score_vs_feature(
            &pts,
            "x & y",
            "<score>",
            "t",
            &dir.join("s"),
            &FigureOptions::default(),
        )
        .unwrap();
        let svg = std::fs::read_to_string(&written[0]).unwrap();
        assert!(
            svg.contains("x &amp; y")
                && svg.contains("&lt;score&gt;")
                && svg.contains("a&lt;b&gt;&amp;c")
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
