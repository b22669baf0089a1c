//! "Did you mean …?" suggestions for unknown keys and values: the nearest
//! candidate by Levenshtein distance over characters (`strsim`, which clap
//! already uses for its own suggestions).

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lc = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word_lc, &c.to_lowercase()), c))
        .filter(|&(dist, c)| dist <= (c.chars().count().max(word.chars().count()) / 2).max(1))
        .min_by_key(|&(dist, _)| dist)
        .map(|(_, c)| c)
}

/// `; did you mean `…`?` for the nearest candidate, or nothing.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates)
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = ["max_tokens", "max_documents", "paths", "text_field"];
        assert_eq!(nearest("max_token", keys), Some("max_tokens"));
        assert_eq!(nearest("maxdocuments", keys), Some("max_documents"));
        assert_eq!(nearest("Path", keys), Some("paths"));
        assert_eq!(nearest("zebra", keys), None);
        assert_eq!(hint("Path", keys), "; did you mean `paths`?");
        assert_eq!(hint("zebra", keys), "");
    }
}
