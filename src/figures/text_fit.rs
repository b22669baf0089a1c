//! Fitting text into a width: shortening a name in its middle (so that both the start,
//! which often names an organisation or family, and the end, which tells models apart,
//! stay readable) and wrapping a phrase into lines. Widths come from a `measure`
//! function, which figures back with the embedded font's real metrics.

/// The mark that stands for the characters a shortened text left out.
pub(crate) const ELLIPSIS: char = '…';

/// `text` if it fits `room`, else its first and last characters around an ellipsis, as
/// many as fit (at least one of each when the text has two or more characters).
pub(crate) fn shorten(text: &str, room: f64, measure: &dyn Fn(&str) -> f64) -> String {
    if measure(text) <= room {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let build = |keep: usize| -> String {
        let head = keep.div_ceil(2);
        let tail = keep - head;
        let mut s: String = chars[..head].iter().collect();
        s.push(ELLIPSIS);
        s.extend(&chars[chars.len() - tail..]);
        s
    };
    // The longest kept length that fits: fitting is monotone in the kept length.
    let (mut lo, mut hi) = (1usize.min(chars.len()), chars.len().saturating_sub(1));
    if measure(&build(lo)) > room {
        return build(lo);
    }
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if measure(&build(mid)) <= room {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    build(lo)
}

/// `names` each fitted to `room`, kept apart: a suffix that every name shares (such as
/// `-instruct`) is replaced by an ellipsis first, so that shortening in the middle keeps
/// the part that tells the names apart.
pub(crate) fn shorten_all(
    names: &[String],
    room: f64,
    measure: &dyn Fn(&str) -> f64,
) -> Vec<String> {
    if names.iter().all(|n| measure(n) <= room) {
        return names.to_vec();
    }
    let chars: Vec<Vec<char>> = names.iter().map(|n| n.chars().collect()).collect();
    let shortest = chars.iter().map(Vec::len).min().unwrap_or(0);
    let common = (0..shortest)
        .take_while(|&k| {
            chars
                .iter()
                .all(|c| c[c.len() - 1 - k] == chars[0][chars[0].len() - 1 - k])
        })
        .count();
    chars
        .iter()
        .map(|c| {
            let text: String = if names.len() > 1 && common > 3 && common < shortest {
                let mut t: String = c[..c.len() - common].iter().collect();
                t.push(ELLIPSIS);
                t
            } else {
                c.iter().collect()
            };
            shorten(&text, room, measure)
        })
        .collect()
}

/// Pieces of `text` that a line may break after: words, and within a long word the parts
/// ending in `/`, `-` or `_`.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        cur.push(c);
        if matches!(c, ' ' | '/' | '-' | '_') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `text` in lines no wider than `room`, broken after spaces (or `/`, `-`, `_`); a piece
/// wider than `room` on its own is shortened. Always at least one line.
pub(crate) fn wrap(text: &str, room: f64, measure: &dyn Fn(&str) -> f64) -> Vec<String> {
    if measure(text) <= room {
        return vec![text.to_string()];
    }
    // "n = 23" stays on one line: the spaces around `=` do not break.
    let text = text.replace(" = ", "\u{a0}=\u{a0}");
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for p in pieces(&text) {
        let joined = format!("{cur}{p}");
        if cur.is_empty() || measure(joined.trim_end()) <= room {
            cur = joined;
        } else {
            lines.push(cur.trim_end().to_string());
            cur = p;
        }
    }
    lines.push(cur.trim_end().to_string());
    lines
        .into_iter()
        .map(|l| shorten(&l.replace('\u{a0}', " "), room, measure))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten pixels a character.
    fn m(s: &str) -> f64 {
        10.0 * s.chars().count() as f64
    }

    #[test]
    fn short_text_is_kept() {
        assert_eq!(shorten("abc", 30.0, &m), "abc");
        assert_eq!(wrap("a b", 30.0, &m), ["a b"]);
    }

    #[test]
    fn long_names_lose_their_middle() {
        let s = shorten("organisation/model-name-7", 100.0, &m);
        assert_eq!(s, "organ…me-7");
        assert!(m(&s) <= 100.0);
        // Nothing fits: one character each side remains.
        assert_eq!(shorten("abcdef", 5.0, &m), "a…");
    }

    #[test]
    fn shortened_names_stay_apart() {
        let names: Vec<String> = (0..3)
            .map(|i| format!("{i}. org/model-{i}-instruct"))
            .collect();
        let out = shorten_all(&names, 100.0, &m);
        assert_eq!(out, ["0. or…l-0…", "1. or…l-1…", "2. or…l-2…"]);
        assert_eq!(shorten_all(&names[..1], 300.0, &m), names[..1]);
    }

    #[test]
    fn phrases_wrap_at_spaces_and_separators() {
        let lines = wrap(
            "small dots: layers 0..L-1; large marker: layer L",
            200.0,
            &m,
        );
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| m(l) <= 200.0), "{lines:?}");
        assert_eq!(
            lines.concat().replace(' ', ""),
            "smalldots:layers0..L-1;largemarker:layerL"
        );
        let stats = wrap("held out: R² = 0.45, MAE = 0.0662, n = 23", 240.0, &m);
        assert_eq!(stats, ["held out: R² = 0.45,", "MAE = 0.0662, n = 23"]);
        let name = wrap("organisation-0/a-rather-long-model-name", 160.0, &m);
        assert_eq!(name, ["organisation-0/", "a-rather-long-", "model-name"]);
    }
}
