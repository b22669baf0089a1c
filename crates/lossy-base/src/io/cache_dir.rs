//! Where lossy keeps its caches (the feature cache and the file-hash memo):
//! `LOSSY_CACHE`, else `$XDG_CACHE_HOME/lossy`, else `~/.cache/lossy`.
//!
//! A leaf, so that the models stage (which memoises weight-file hashes
//! there) and the features stage (whose cache lives there) both read it
//! without the earlier stage importing the later one.

use std::path::{Path, PathBuf};

/// The folder of lossy's caches (`LOSSY_CACHE`, else the user cache).
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LOSSY_CACHE").filter(|v| !v.is_empty()) {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("lossy")
}
