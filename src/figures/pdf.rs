//! SVG to PDF, in pure Rust: the figure's SVG is parsed by usvg with a font database that
//! holds only the bundled DejaVu Sans (no system fonts are looked up), and written by
//! svg2pdf, which embeds a subset of the font, so text is selectable and renders the same
//! everywhere.
//!
//! svg2pdf 0.13 (archived upstream; its successor is krilla-svg) writes the
//! entries of each resource dictionary (`/XObject`, `/ExtGState`, …) in
//! `HashMap` order, so the same figure came out with different bytes from
//! run to run. [`canonical_resource_order`] sorts those entries in place: one
//! entry per line, so the dictionary keeps its length and no object offset
//! moves, and a figure's PDF is the same bytes every time.

use std::sync::Arc;

use svg2pdf::usvg;

use super::style::DEJAVU_SANS;

/// The face name usvg matches against the SVG's `font-family`.
const FACE: &str = "DejaVu Sans";

/// The PDF of an SVG document as the figure writer renders it. The page has the
/// SVG's size (its width and height are given in inches).
pub(crate) fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, String> {
    let mut db = usvg::fontdb::Database::new();
    db.load_font_data(DEJAVU_SANS.to_vec());
    if db.is_empty() {
        return Err("the embedded font could not be loaded".into());
    }
    db.set_sans_serif_family(FACE);
    let options = usvg::Options {
        font_family: FACE.to_string(),
        fontdb: Arc::new(db),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| e.to_string())?;
    // usvg converts inches at 96 px per inch; keep that so the page is the SVG's size.
    let page = svg2pdf::PageOptions { dpi: 96.0 };
    let mut pdf = svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), page)
        .map_err(|e| e.to_string())?;
    canonical_resource_order(&mut pdf);
    Ok(pdf)
}

/// The resource dictionaries svg2pdf fills from a `HashMap`, as pdf-writer
/// opens them (the entries follow, one per line).
const RESOURCE_DICTS: [&[u8]; 6] = [
    b"/XObject <<\n",
    b"/ExtGState <<\n",
    b"/Pattern <<\n",
    b"/Shading <<\n",
    b"/Font <<\n",
    b"/ColorSpace <<\n",
];

/// Sorts the entry lines of every resource dictionary in `pdf`, in place.
fn canonical_resource_order(pdf: &mut [u8]) {
    let mut from = 0;
    while let Some(entries) = next_resource_entries(pdf, from) {
        sort_entry_lines(&mut pdf[entries.clone()]);
        from = entries.end;
    }
}

/// The entry lines (each ending in a newline) of the first resource
/// dictionary opened at or after `from`.
fn next_resource_entries(pdf: &[u8], from: usize) -> Option<std::ops::Range<usize>> {
    (from..pdf.len()).find_map(|i| {
        let key = RESOURCE_DICTS.iter().find(|k| pdf[i..].starts_with(k))?;
        let start = i + key.len();
        let close = start + pdf[start..].windows(2).position(|w| w == b">>")?;
        let end = start + pdf[start..close].iter().rposition(|&b| b == b'\n')? + 1;
        Some(start..end)
    })
}

/// Sorts newline-terminated lines in place, when every one is an entry
/// (`/name …` on one line, printable ASCII, all at one indentation);
/// anything else is left as it is.
fn sort_entry_lines(span: &mut [u8]) {
    let mut lines: Vec<Vec<u8>> = span
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    // one entry per line, all at one depth: nothing opens a nested value
    let indent = |l: &[u8]| l.iter().take_while(|&&b| b == b' ').count();
    let depth = lines.first().map(|l| indent(l));
    let entry = |l: &Vec<u8>| {
        let text = l.trim_ascii();
        Some(indent(l)) == depth
            && text.starts_with(b"/")
            && !text.ends_with(b"<<")
            && !text.ends_with(b"[")
            && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
    };
    if !lines.iter().all(entry) {
        return;
    }
    lines.sort();
    span.copy_from_slice(&lines.concat());
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<svg width="2in" height="1in" viewBox="0 0 240 120" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="240" height="120" fill="#FFFFFF"/><text x="10" y="60" font-family="DejaVu Sans, sans-serif" font-size="13">ρ = 0.5 I(X;Z)</text></svg>"##;

    #[test]
    fn pdf_has_the_page_size_and_embeds_the_font() {
        let pdf = svg_to_pdf(SVG).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2"), "no embedded TrueType font");
        assert!(text.contains("DejaVuSans"), "font not named");
        // 2 x 1 inches = 144 x 72 points.
        assert_eq!(media_box(&text), [0.0, 0.0, 144.0, 72.0]);
    }

    /// The numbers of the first `/MediaBox [...]`.
    pub(crate) fn media_box(pdf: &str) -> Vec<f64> {
        let at = pdf.find("/MediaBox [").expect("a media box") + "/MediaBox [".len();
        let end = at + pdf[at..].find(']').expect("closed");
        pdf[at..end]
            .split_whitespace()
            .map(|v| v.parse().expect("number"))
            .collect()
    }

    #[test]
    fn resource_entries_are_written_in_one_order() {
        // Five opacity groups: five XObjects and their graphics states, which
        // svg2pdf lists in HashMap order (a new order for each conversion).
        let groups: String = (1..=5)
            .map(|i| {
                format!(r#"<g opacity="0.{i}"><rect x="{}" y="0" width="20" height="20"/><rect x="{}" y="30" width="20" height="20"/></g>"#, i * 30, i * 30)
            })
            .collect();
        let svg = format!(
            r#"<svg width="3in" height="1in" viewBox="0 0 240 80" xmlns="http://www.w3.org/2000/svg">{groups}</svg>"#
        );
        let first = svg_to_pdf(&svg).unwrap();
        assert!(String::from_utf8_lossy(&first).contains("/XObject <<\n"));
        for _ in 0..8 {
            assert!(
                svg_to_pdf(&svg).unwrap() == first,
                "the PDF changed between conversions"
            );
        }
    }

    #[test]
    fn entries_are_sorted_and_other_text_is_left_alone() {
        let mut pdf = b"<<\n  /XObject <<\n    /xo1 7 0 R\n    /xo0 5 0 R\n  >>\n>>\n/Font <<\n/f1 [bad\n/f0 1\n>>".to_vec();
        canonical_resource_order(&mut pdf);
        assert_eq!(
            String::from_utf8(pdf).unwrap(),
            "<<\n  /XObject <<\n    /xo0 5 0 R\n    /xo1 7 0 R\n  >>\n>>\n/Font <<\n/f0 1\n/f1 [bad\n>>"
        );
        for odd in [
            &b"/Font <<\nstream\x01\n/f0 1\n>>"[..],
            b"/Font <<\n  /f1 <<\n    /a 1\n  >>\n>>",
            b"/Font <<\n  /f1 1\n    /a 1\n>>",
        ] {
            let mut pdf = odd.to_vec();
            canonical_resource_order(&mut pdf);
            assert_eq!(pdf, odd, "{}", String::from_utf8_lossy(odd));
        }
    }

    #[test]
    fn bad_svg_is_an_error() {
        assert!(svg_to_pdf("<svg").is_err());
    }
}
