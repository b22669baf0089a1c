//! SVG to PDF, in pure Rust: the figure's SVG is parsed by usvg with a font database that
//! holds only the bundled DejaVu Sans (no system fonts are looked up), and written by
//! svg2pdf, which embeds a subset of the font, so text is selectable and renders the same
//! everywhere.

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
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), page).map_err(|e| e.to_string())
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
    fn bad_svg_is_an_error() {
        assert!(svg_to_pdf("<svg").is_err());
    }
}
