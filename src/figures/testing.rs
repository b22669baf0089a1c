//! Test support shared by every figure type: render a figure to SVG, PNG and PDF and check
//! each file as a reader would see it.

use std::path::Path;

use super::output::testing::{scratch_dir, svg_texts};
use super::output::{logical_size, png_size, write_figure, Figure};
use super::{FigureFormat, FigureOptions};

/// Decodes a PNG file: (width, height, RGB(A) bytes, channels).
pub(crate) fn decode_png(path: &Path) -> (u32, u32, Vec<u8>, usize) {
    let file = std::fs::File::open(path).expect("png readable");
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type.samples())
}

/// Checks the figure at `opts` in all three formats: the SVG has every `texts` entry as a
/// text element and names the bundled font; the PNG has the size `opts` asks for and is
/// not blank; the PDF is a PDF with the font embedded. Returns the SVG.
pub(crate) fn check_figure_with(
    fig: &impl Figure,
    case: &str,
    texts: &[&str],
    opts: &FigureOptions,
) -> String {
    let dir = scratch_dir(case);
    let opts = FigureOptions {
        formats: vec![FigureFormat::Svg, FigureFormat::Png, FigureFormat::Pdf],
        ..opts.clone()
    };
    let written = write_figure(fig, &dir.join("fig"), &opts).expect("figure written");
    assert_eq!(written.len(), 3);

    let svg = std::fs::read_to_string(&written[0]).unwrap();
    let found = svg_texts(&svg);
    for t in texts {
        let escaped = t
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(
            found.contains(&escaped),
            "{case}: svg lacks {t:?} in {found:?}"
        );
    }
    assert!(svg.contains("font-family=\"DejaVu Sans, sans-serif\""));

    let (w, h, pixels, channels) = decode_png(&written[1]);
    assert_eq!(
        (w, h),
        png_size(logical_size(fig, &opts), &opts),
        "{case}: png size"
    );
    let px = pixels.len() / channels;
    let non_white = pixels
        .chunks_exact(channels)
        .filter(|c| c[..3].iter().any(|&v| v < 235))
        .count();
    assert!(
        non_white * 200 > px,
        "{case}: png nearly blank ({non_white} of {px} pixels drawn)"
    );
    let mut colours: Vec<&[u8]> = pixels.chunks_exact(channels).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 20, "{case}: only {} colours", colours.len());

    let bytes = std::fs::read(&written[2]).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{case}: not a PDF");
    check_pdf_structure(&bytes, case);
    let pdf = String::from_utf8_lossy(&bytes);
    assert!(
        pdf.contains("/FontFile2") && pdf.contains("DejaVuSans"),
        "{case}: font not embedded"
    );
    assert!(
        pdf.trim_end().ends_with("%%EOF"),
        "{case}: PDF not terminated"
    );
    // For checking by eye: LOSSY_FIGURE_DIR=/some/dir cargo test figures keeps every PNG.
    if let Some(keep) = std::env::var_os("LOSSY_FIGURE_DIR") {
        let keep = Path::new(&keep);
        let _ = std::fs::create_dir_all(keep);
        let _ = std::fs::copy(&written[1], keep.join(format!("{case}.png")));
    }
    let _ = std::fs::remove_dir_all(dir);
    svg
}

/// The cross-reference table is where `startxref` says, and every object it lists starts
/// at its recorded offset with `<n> 0 obj`: the file parses as a PDF reader would read it.
pub(crate) fn check_pdf_structure(pdf: &[u8], case: &str) {
    // Byte offsets: search the bytes, and decode only the (ASCII) table and trailer.
    let at = pdf
        .windows(9)
        .rposition(|w| w == b"startxref")
        .unwrap_or_else(|| panic!("{case}: no startxref"));
    let tail = String::from_utf8_lossy(&pdf[at + 9..]);
    let offset: usize = tail
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{case}: bad startxref"));
    assert!(
        pdf[offset..].starts_with(b"xref"),
        "{case}: startxref does not point at the xref table"
    );
    let table = String::from_utf8_lossy(&pdf[offset..]);
    let mut lines = table.lines().skip(1);
    let header: Vec<usize> = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let [first, count] = header[..] else {
        panic!("{case}: bad xref header")
    };
    let mut checked = 0;
    for (k, line) in lines.take(count).enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(2) == Some(&"n") {
            let off: usize = fields[0]
                .parse()
                .unwrap_or_else(|_| panic!("{case}: bad xref entry {line:?}"));
            let want = format!("{} 0 obj", first + k);
            assert!(
                pdf[off..].starts_with(want.as_bytes()),
                "{case}: object {} not at {off}",
                first + k
            );
            checked += 1;
        }
    }
    assert!(checked > 3, "{case}: only {checked} objects");
}

/// [`check_figure_with`] at the default options (double column, 200 dpi).
pub(crate) fn check_figure(fig: &impl Figure, case: &str, texts: &[&str]) -> String {
    check_figure_with(fig, case, texts, &FigureOptions::default())
}
