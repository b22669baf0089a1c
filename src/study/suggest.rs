//! "Did you mean …?" suggestions for unknown keys and values.

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lc = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&word_lc, &c.to_lowercase()), c))
        .filter(|&(dist, c)| dist <= (c.chars().count().max(word.chars().count()) / 2).max(1))
        .min_by_key(|&(dist, _)| dist)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
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
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
