//! Content hashes (sha256, hex) used in manifests and cache keys.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// sha256 of a byte slice, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256 of a file's content, streamed, as lowercase hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// sha256 of a large file that runs read again and again (model weights),
/// without reading it when the answer is already known:
/// - a file in a Hugging Face cache that resolves to `blobs/<64 hex>` is an
///   LFS file named by its sha256 (checked when it was downloaded);
/// - otherwise a memo under `memo_dir/file-hashes/`, keyed by the file's
///   canonical path, size, modification time and inode, holds the hash of
///   an earlier read. A file changed in any of those is read again. As in
///   git, a file modified in the last few seconds is not remembered, since
///   a second write within the clock's granularity would keep its stamp.
///
/// The memo is best effort: if it cannot be written the hash is still
/// returned.
pub fn sha256_file_memo(path: &Path, memo_dir: &Path) -> io::Result<String> {
    let canonical = std::fs::canonicalize(path)?;
    if let Some(sha) = hub_blob_sha256(&canonical) {
        return Ok(sha);
    }
    let memo = memo_dir
        .join("file-hashes")
        .join(sha256_hex(stamp(&canonical)?.as_bytes()));
    if let Ok(text) = std::fs::read_to_string(&memo) {
        if is_sha256(text.trim()) {
            return Ok(text.trim().to_string());
        }
    }
    let sha = sha256_file(&canonical)?;
    if !recently_modified(&canonical) {
        remove_dead_temporaries(&memo);
        let _ = super::atomic::write(&memo, sha.as_bytes());
    }
    Ok(sha)
}

/// Removes this memo's temporaries left by killed writers (`.NAME.tmp-PID`,
/// as [`super::atomic`] names them, whose process is gone).
fn remove_dead_temporaries(memo: &Path) {
    if let (Some(dir), Some(name)) = (memo.parent(), memo.file_name()) {
        let prefix = format!(".{}.tmp-", name.to_string_lossy());
        super::pid::remove_dead_files(dir, &prefix, |rest| rest.parse().ok());
    }
}

fn recently_modified(path: &Path) -> bool {
    let age = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default());
    age.map_or(true, |a| a < std::time::Duration::from_secs(3))
}

/// The sha256 a Hugging Face cache blob is named by.
fn hub_blob_sha256(canonical: &Path) -> Option<String> {
    let name = canonical.file_name()?.to_str()?;
    let in_blobs = canonical.parent()?.file_name()? == "blobs";
    (in_blobs && is_sha256(name)).then(|| name.to_string())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What identifies one version of a file without reading it.
fn stamp(canonical: &Path) -> io::Result<String> {
    let meta = std::fs::metadata(canonical)?;
    let modified = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0u64;
    Ok(format!(
        "{}\0{}\0{modified}\0{inode}",
        canonical.display(),
        meta.len()
    ))
}

/// An incremental hasher for structured content: each part is length-prefixed,
/// so `["ab", "c"]` and `["a", "bc"]` hash differently.
#[derive(Default)]
pub struct PartsHasher(Sha256);

impl PartsHasher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn part(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sets `file`'s modification time an hour back (old enough to memoise).
    fn written_an_hour_ago(file: &Path) {
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(file)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }

    #[test]
    fn a_killed_writers_temporary_is_removed_with_the_next_write() {
        let tmp = tempfile::tempdir().unwrap();
        let (file, memo) = (tmp.path().join("w.bin"), tmp.path().join("memo"));
        std::fs::write(&file, b"abc").unwrap();
        written_an_hour_ago(&file);
        let name = sha256_hex(
            stamp(&std::fs::canonicalize(&file).unwrap())
                .unwrap()
                .as_bytes(),
        );
        let dir = memo.join("file-hashes");
        std::fs::create_dir_all(&dir).unwrap();
        // a pid above the kernel's maximum (4194304) is never alive
        let leftover = dir.join(format!(".{name}.tmp-{}", 4_194_305u32 + 17));
        std::fs::write(&leftover, "").unwrap();
        sha256_file_memo(&file, &memo).unwrap();
        assert!(!leftover.exists(), "the dead writer's temporary is left");
        assert!(dir.join(&name).is_file());
    }

    #[test]
    fn memo_answers_without_reading_and_notices_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let (file, memo) = (tmp.path().join("w.bin"), tmp.path().join("memo"));
        std::fs::write(&file, b"abc").unwrap();
        // just written: hashed but not remembered
        sha256_file_memo(&file, &memo).unwrap();
        assert!(!memo.join("file-hashes").exists());
        written_an_hour_ago(&file);
        let first = sha256_file_memo(&file, &memo).unwrap();
        assert_eq!(first, sha256_hex(b"abc"));
        // the memo entry answers (proved by planting a different hash in it)
        let entry = std::fs::read_dir(memo.join("file-hashes"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(&entry, "0".repeat(64)).unwrap();
        assert_eq!(sha256_file_memo(&file, &memo).unwrap(), "0".repeat(64));
        // a rewrite changes size and mtime: read again
        std::fs::write(&file, b"abcd").unwrap();
        assert_eq!(sha256_file_memo(&file, &memo).unwrap(), sha256_hex(b"abcd"));
    }

    #[test]
    fn hub_blobs_are_named_by_their_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = tmp.path().join("models--o--n/blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        let name = "ab".repeat(32);
        std::fs::write(blobs.join(&name), b"not read").unwrap();
        let snap = tmp.path().join("models--o--n/snapshots/c0ffee");
        std::fs::create_dir_all(&snap).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(blobs.join(&name), snap.join("model.safetensors")).unwrap();
            assert_eq!(
                sha256_file_memo(&snap.join("model.safetensors"), tmp.path()).unwrap(),
                name
            );
        }
        // a git (sha1) blob name is not taken as a sha256
        std::fs::write(blobs.join("a".repeat(40)), b"x").unwrap();
        assert_eq!(
            sha256_file_memo(&blobs.join("a".repeat(40)), tmp.path()).unwrap(),
            sha256_hex(b"x")
        );
    }

    #[test]
    fn known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parts_are_length_prefixed() {
        let mut a = PartsHasher::new();
        a.part(b"ab").part(b"c");
        let mut b = PartsHasher::new();
        b.part(b"a").part(b"bc");
        assert_ne!(a.finish(), b.finish());
    }
}
