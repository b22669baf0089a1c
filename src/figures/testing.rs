//! Test support shared by every figure type: render a figure to SVG, PNG and PDF and check
//! each file as a reader would see it.

use std::path::Path;

use super::output::testing::{scratch_dir, svg_texts};
use super::output::{logical_size, png_size, write_figure, Figure};
use super::{FigureFormat, FigureOptions};

/// Decodes a PNG file: (width, height, RGB(A) bytes, channels).
pub(crate) fn decode_png(path: &Path) -> (u32, u32, Vec<u8>, usize) {
    let file = std::fs::File::open(path).expect("png readable");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type.samples())
}

/// Checks the figure at `opts` in all three formats: the SVG has every `texts` entry as a
/// text element and names the bundled font; the PNG has the size `opts` asks for and is
/// not blank; the PDF is a PDF with the font embedded. Returns the SVG.
pub(crate) fn check_figure_with(fig: &impl Figure, case: &str, texts: &[&str], opts: &FigureOptions) -> String {
    let dir = scratch_dir(case);
    let opts = FigureOptions { formats: vec![FigureFormat::Svg, FigureFormat::Png, FigureFormat::Pdf], ..opts.clone() };
    let written = write_figure(fig, &dir.join("fig"), &opts).expect("figure written");
    assert_eq!(written.len(), 3);

    let svg = std::fs::read_to_string(&written[0]).unwrap();
    let found = svg_texts(&svg);
    for t in texts {
        let escaped = t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(found.contains(&escaped), "{case}: svg lacks {t:?} in {found:?}");
    }
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));

    let (w, h, pixels, channels) = decode_png(&written[1]);
    assert_eq!((w, h), png_size(logical_size(fig, &opts), &opts), "{case}: png size");
    let px = pixels.len() / channels;
    let non_white = pixels.chunks_exact(channels).filter(|c| c[..3].iter().any(|&v| v < 235)).count();
    assert!(non_white * 200 > px, "{case}: png nearly blank ({non_white} of {px} pixels drawn)");
    let mut colours: Vec<&[u8]> = pixels.chunks_exact(channels).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "{case}: only {} colours", colours.len());

    let pdf = std::fs::read(&written[2]).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "{case}: not a PDF");
    let pdf = String::from_utf8_lossy(&pdf);
    assert!(pdf.contains("/FontFile2") && pdf.contains("DejaVuSans"), "{case}: font not embedded");
    assert!(pdf.trim_end().ends_with("%%EOF"), "{case}: PDF not terminated");
    // For checking by eye: LOSSY_FIGURE_DIR=/some/dir cargo test figures keeps every PNG.
    if let Some(keep) = std::env::var_os("LOSSY_FIGURE_DIR") {
        let keep = Path::new(&keep);
        let _ = std::fs::create_dir_all(keep);
        let _ = std::fs::copy(&written[1], keep.join(format!("{case}.png")));
    }
    let _ = std::fs::remove_dir_all(dir);
    svg
}

/// [`check_figure_with`] at the default options (double column, 200 dpi).
pub(crate) fn check_figure(fig: &impl Figure, case: &str, texts: &[&str]) -> String {
    check_figure_with(fig, case, texts, &FigureOptions::default())
}
