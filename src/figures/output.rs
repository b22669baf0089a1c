//! Rendering a figure to SVG, PNG and PDF files: option checks, one backend per format
//! (the PDF is converted from the SVG), and atomic writes (render to a temporary file in
//! the destination folder, then rename).

use std::fs;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::error::FigureError;
pub(crate) use super::figure::{logical_size, png_size, DrawResult, Figure};
use super::style::{ensure_fonts, Style, Target, FONT_FAMILY, SVG_FONT_FAMILY};
use super::{FigureFormat, FigureOptions};

/// Largest accepted side of an output image, in device pixels.
const MAX_SIDE: f64 = 16_384.0;

/// The name used in error messages: the file name of the stem.
pub(crate) fn figure_name(out_stem: &Path) -> String {
    out_stem
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "figure".to_string())
}

/// `<stem>.<ext>`; the stem is kept whole even if it contains dots.
fn with_extension(out_stem: &Path, ext: &str) -> PathBuf {
    let mut s = out_stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn check_options(name: &str, (w, h): (u32, u32), opts: &FigureOptions) -> Result<(), FigureError> {
    let bad = |m: String| Err(FigureError::draw(name, m));
    if w < 160 || h < 120 {
        return bad(format!(
            "size {:.2} x {:.2} in is too small (at least {:.2} x {:.2} in)",
            w as f64 / opts.units_per_inch(),
            h as f64 / opts.units_per_inch(),
            160.0 / opts.units_per_inch(),
            1.0
        ));
    }
    if !(opts.dpi.is_finite() && opts.dpi >= 30.0) {
        return bad(format!("dpi {} must be at least 30", opts.dpi));
    }
    let largest = w.max(h) as f64;
    if largest > MAX_SIDE || largest * opts.png_scale() > MAX_SIDE {
        return bad(format!("a side larger than {MAX_SIDE} pixels"));
    }
    Ok(())
}

fn io_error(path: &Path, source: std::io::Error) -> FigureError {
    FigureError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `<path>.tmp`, then renames it to `path`.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FigureError> {
    let tmp = with_suffix(path, ".tmp");
    if let Err(e) = fs::write(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error(path, e)
    })
}

/// SVG coordinates are integers in plotters, so the document is drawn at this multiple of
/// the logical size and scaled back by its `viewBox`: lines and markers are placed to a
/// quarter of a logical pixel, and dashed lines do not wobble.
const SVG_SUPERSAMPLE: u32 = 4;

/// Renders the SVG document of `fig`, of logical size `size`, sized in inches on the page.
pub(crate) fn render_svg(
    fig: &impl Figure,
    name: &str,
    size: (u32, u32),
    units_per_inch: f64,
) -> Result<String, FigureError> {
    let k = SVG_SUPERSAMPLE;
    let (w, h) = (size.0 * k, size.1 * k);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root, &Style::new(k as f64, Target::Svg))
            .map_err(|e| FigureError::draw(name, e))?;
        root.present().map_err(|e| FigureError::draw(name, e))?;
    }
    let drawn = format!("<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"");
    let inches = |v: u32| {
        format!("{:.4}", v as f64 / units_per_inch)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    };
    let page = format!(
        "<svg width=\"{}in\" height=\"{}in\" viewBox=\"0 0 {w} {h}\"",
        inches(size.0),
        inches(size.1)
    );
    if !svg.starts_with(&drawn) {
        return Err(FigureError::draw(
            name,
            "unexpected SVG header from plotters",
        ));
    }
    // Name the embedded face first, so viewers that have DejaVu Sans (most TeX and Linux
    // installs) reproduce the PNG's metrics, and others fall back to their sans-serif.
    Ok(svg.replacen(&drawn, &page, 1).replace(
        &format!("font-family=\"{FONT_FAMILY}\""),
        &format!("font-family=\"{SVG_FONT_FAMILY}\""),
    ))
}

/// Renders the PNG of `fig` to `path`. The temporary file is `<path>.tmp.png`, because
/// plotters' PNG encoder picks the image format from the file extension.
fn write_png(
    fig: &impl Figure,
    name: &str,
    path: &Path,
    size: (u32, u32),
    opts: &FigureOptions,
) -> Result<(), FigureError> {
    let tmp = with_suffix(path, ".tmp.png");
    let drawn = {
        let root = BitMapBackend::new(&tmp, png_size(size, opts)).into_drawing_area();
        match fig.draw(&root, &Style::new(opts.png_scale(), Target::Raster)) {
            Ok(()) => root
                .present()
                .map_err(|e| io_error(path, std::io::Error::other(e.to_string()))),
            Err(e) => Err(FigureError::draw(name, e)),
        }
    };
    if let Err(e) = drawn {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error(path, e)
    })
}

/// Every figure's entry point: builds the figure for the page width (`None`: nothing
/// finite to draw, [`FigureError::Empty`]), then [`write_figure`]s it.
pub(crate) fn build_and_write<F: Figure>(
    out_stem: &Path,
    opts: &FigureOptions,
    build: impl FnOnce(f64) -> Option<F>,
) -> Result<Vec<PathBuf>, FigureError> {
    let fig = build(opts.width_units()).ok_or_else(|| FigureError::Empty {
        name: figure_name(out_stem),
    })?;
    write_figure(&fig, out_stem, opts)
}

/// Checks the options, records the layout under test, and writes `fig` in every
/// requested format next to `out_stem`; returns the paths written.
pub(crate) fn write_figure(
    fig: &impl Figure,
    out_stem: &Path,
    opts: &FigureOptions,
) -> Result<Vec<PathBuf>, FigureError> {
    let name = figure_name(out_stem);
    let size = logical_size(fig, opts);
    check_options(&name, size, opts)?;
    if !ensure_fonts() {
        return Err(FigureError::draw(
            &name,
            "the embedded font could not be loaded",
        ));
    }
    if let Some(dir) = out_stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    }
    #[cfg(test)]
    super::layout_check::record(fig, &name, opts);
    let mut written = Vec::new();
    for (i, format) in opts.formats.iter().enumerate() {
        if opts.formats[..i].contains(format) {
            continue;
        }
        let path = with_extension(out_stem, format.extension());
        match format {
            FigureFormat::Svg => write_atomic(
                &path,
                render_svg(fig, &name, size, opts.units_per_inch())?.as_bytes(),
            )?,
            FigureFormat::Png => write_png(fig, &name, &path, size, opts)?,
            FigureFormat::Pdf => {
                let svg = render_svg(fig, &name, size, opts.units_per_inch())?;
                let pdf = super::pdf::svg_to_pdf(&svg)
                    .map_err(|e| FigureError::draw(&name, format!("PDF conversion: {e}")))?;
                write_atomic(&path, &pdf)?
            }
        }
        written.push(path);
    }
    Ok(written)
}

/// Test helpers: render into memory, and read a PNG header.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// RGB pixels of `fig` rendered as the PNG would be, and the number of distinct colours.
    pub(crate) fn render_rgb(
        fig: &impl Figure,
        opts: &FigureOptions,
    ) -> (Vec<u8>, (u32, u32), usize) {
        assert!(ensure_fonts());
        let (w, h) = png_size(logical_size(fig, opts), opts);
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            fig.draw(&root, &Style::new(opts.png_scale(), Target::Raster))
                .expect("draws");
            root.present().expect("presents");
        }
        let mut colours: Vec<[u8; 3]> = buf.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
        colours.sort_unstable();
        colours.dedup();
        (buf, (w, h), colours.len())
    }

    /// Width and height from a PNG file's IHDR chunk; panics if it is not a PNG.
    pub(crate) fn png_header_size(path: &Path) -> (u32, u32) {
        let bytes = fs::read(path).expect("png readable");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        (be(&bytes[16..20]), be(&bytes[20..24]))
    }

    /// The text content of every `<text>` element of an SVG document (entities kept).
    pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_string())
            })
            .collect()
    }

    /// A fresh, empty folder under the system temp dir.
    pub(crate) fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lossy-figures-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_dotted_stems() {
        let p = with_extension(Path::new("/a/model.v1.plane"), "svg");
        assert_eq!(p, PathBuf::from("/a/model.v1.plane.svg"));
        assert_eq!(
            with_suffix(&p, ".tmp"),
            PathBuf::from("/a/model.v1.plane.svg.tmp")
        );
        assert_eq!(figure_name(Path::new("/a/plane")), "plane");
    }

    #[test]
    fn options_are_checked() {
        let ok = FigureOptions::default();
        assert!(check_options("f", (859, 644), &ok).is_ok());
        assert_eq!(png_size((859, 644), &ok), (1432, 1073));
        assert!(check_options("f", (100, 644), &ok).is_err());
        for dpi in [f64::NAN, 0.0, 10.0, 3000.0] {
            let bad = FigureOptions { dpi, ..ok.clone() };
            assert!(matches!(
                check_options("f", (859, 644), &bad),
                Err(FigureError::Draw { .. })
            ));
        }
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = testing::scratch_dir("atomic");
        let p = dir.join("x.svg");
        write_atomic(&p, b"<svg/>").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"<svg/>");
        assert!(!with_suffix(&p, ".tmp").exists());
        let e = write_atomic(&dir.join("missing").join("x.svg"), b"x").unwrap_err();
        assert!(matches!(e, FigureError::Io { .. }));
        let _ = fs::remove_dir_all(dir);
    }
}
