//! Is a checkpoint folder completely written? `lossy watch` asks before it
//! reads a checkpoint a training run may still be writing: the config and
//! tokenizer must be there (or in the run's root), and the weights whole. A
//! safetensors file is whole when its length is exactly the 8-byte header
//! length, the JSON header, and the largest tensor end offset the header
//! declares; a sharded checkpoint needs its index and every shard it names
//! whole. A `pytorch_model.bin` (a zip) is whole when its end-of-central-
//! directory record is in its last bytes. Reads headers only, never weights.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Why a checkpoint is not ready yet (a sentence, shown by `watch`).
pub type Incomplete = String;

/// `Ok` when `dir` (with `root` as the fallback for config and tokenizer)
/// holds a complete model.
pub fn check(dir: &Path, root: Option<&Path>) -> Result<(), Incomplete> {
    if super::gguf::is_gguf(dir) {
        return Ok(());
    }
    for name in ["config.json", "tokenizer.json"] {
        let here = std::iter::once(dir)
            .chain(root)
            .any(|d| d.join(name).is_file());
        if !here {
            return Err(format!("no {name} yet"));
        }
    }
    let single = dir.join("model.safetensors");
    let index = dir.join("model.safetensors.index.json");
    let bin = dir.join("pytorch_model.bin");
    if single.is_file() {
        safetensors_whole(&single)
    } else if index.is_file() {
        for shard in shards(&index)? {
            if !shard.is_file() {
                return Err(format!("shard {} not written yet", shard.display()));
            }
            safetensors_whole(&shard)?;
        }
        Ok(())
    } else if bin.is_file() {
        zip_whole(&bin)
    } else {
        Err("no weights yet (model.safetensors, its index, or pytorch_model.bin)".into())
    }
}

/// The shards the index names (an index still being written is not JSON yet).
fn shards(index: &Path) -> Result<Vec<PathBuf>, Incomplete> {
    let text = std::fs::read_to_string(index).map_err(|e| format!("index unreadable: {e}"))?;
    let dir = index.parent().unwrap_or(Path::new("."));
    Ok(super::shard_names(&text)?
        .into_iter()
        .map(|f| dir.join(f))
        .collect())
}

/// The safetensors header's promise against the file's length.
fn safetensors_whole(path: &Path) -> Result<(), Incomplete> {
    let short = || format!("{} is still being written", path.display());
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|_| short())?;
    let n = u64::from_le_bytes(n);
    if n > 100 << 20 || 8 + n > len {
        return Err(short());
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(|_| short())?;
    let json: serde_json::Value = serde_json::from_slice(&header).map_err(|_| short())?;
    let end = json
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    if len == 8 + n + end {
        Ok(())
    } else {
        Err(format!(
            "{} has {len} of {} bytes",
            path.display(),
            8 + n + end
        ))
    }
}

/// A zip ends with its end-of-central-directory record (`PK\x05\x06`).
fn zip_whole(path: &Path) -> Result<(), Incomplete> {
    let short = || format!("{} is still being written", path.display());
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let tail = len.min(66_000);
    f.seek(SeekFrom::Start(len - tail)).map_err(|_| short())?;
    let mut buf = Vec::with_capacity(tail as usize);
    f.read_to_end(&mut buf).map_err(|_| short())?;
    let found = buf.windows(4).rev().any(|w| w == b"PK\x05\x06");
    if found {
        Ok(())
    } else {
        Err(short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safetensors(tensors: usize) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        for i in 0..tensors {
            header.insert(
                format!("t{i}"),
                serde_json::json!({"dtype": "F32", "shape": [2], "data_offsets": [8 * i, 8 * i + 8]}),
            );
        }
        let h = serde_json::to_vec(&header).unwrap();
        let mut out = (h.len() as u64).to_le_bytes().to_vec();
        out.extend(h);
        out.extend(vec![0u8; 8 * tensors]);
        out
    }

    #[test]
    fn half_written_checkpoints_are_not_ready() {
        let run = tempfile::tempdir().unwrap();
        let dir = run.path().join("checkpoint-1");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(check(&dir, Some(run.path()))
            .unwrap_err()
            .contains("config.json"));
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        std::fs::write(run.path().join("tokenizer.json"), "{}").unwrap();
        assert!(check(&dir, Some(run.path()))
            .unwrap_err()
            .contains("no weights"));
        assert!(check(&dir, None).unwrap_err().contains("tokenizer.json"));
        let full = safetensors(3);
        for cut in [0, 4, 12, full.len() - 1] {
            std::fs::write(dir.join("model.safetensors"), &full[..cut]).unwrap();
            assert!(check(&dir, Some(run.path())).is_err(), "cut at {cut}");
        }
        std::fs::write(dir.join("model.safetensors"), &full).unwrap();
        assert_eq!(check(&dir, Some(run.path())), Ok(()));
    }

    #[test]
    fn sharded_checkpoint_needs_every_shard() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("config.json"), "{}").unwrap();
        std::fs::write(d.join("tokenizer.json"), "{}").unwrap();
        std::fs::write(
            d.join("model.safetensors.index.json"),
            "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}}",
        )
        .unwrap();
        std::fs::write(d.join("s1.safetensors"), safetensors(1)).unwrap();
        assert!(check(d, None).unwrap_err().contains("s2.safetensors"));
        std::fs::write(d.join("s2.safetensors"), &safetensors(2)[..20]).unwrap();
        assert!(check(d, None).is_err());
        std::fs::write(d.join("s2.safetensors"), safetensors(2)).unwrap();
        assert_eq!(check(d, None), Ok(()));
        std::fs::write(d.join("model.safetensors.index.json"), "{\"weight_ma").unwrap();
        assert!(check(d, None).unwrap_err().contains("JSON"));
    }
}
