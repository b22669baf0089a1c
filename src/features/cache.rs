//! A content-addressed cache of per-model features, so a second `run` of an
//! unchanged study recomputes nothing, a changed model recomputes only that
//! model, and an interrupted run resumes where it stopped (each model's
//! entry is written atomically as soon as it is done).
//!
//! The key is the sha256 of everything a model's features depend on: the
//! model's content hash (config, weights, tokenizer), the corpus hash and
//! token settings, the feature settings (with the reference points'
//! provenance), the compute precision, lossy's version and a hash of the
//! source code that computes features (`LOSSY_FEATURE_CODE`, from
//! `build.rs`), so a code change never serves stale numbers.
//!
//! Entries live in `$LOSSY_CACHE` (default `$XDG_CACHE_HOME/lossy` or
//! `~/.cache/lossy`) under `features/<key>.bin`: a magic line, a JSON header
//! (the key's inputs and the model facts), then the estimates as exact f64
//! bits, then a sha256 of everything before it, checked on every read. A
//! corrupt entry (a flipped bit, a truncated or partially copied file) is
//! reported and recomputed; a foreign one (another key or format) is
//! ignored. Entries are replaced by rename, so processes sharing the cache
//! never read a partial entry, and an entry's temporaries left by killed
//! writers are removed when the entry is next written (those of live
//! processes, other entries' and any other file are left alone).
//!
//! Layer groups: when a memory budget splits a model's pass into groups of
//! layers, each group is stored as an entry of its own (key inputs plus
//! `"layers": [start, end]`, [`FeatureCache::put_group`]) as soon as its
//! pass ends, so an interrupted model resumes at its next group, and groups
//! computed by different processes merge exactly ([`super::groups::merge`]).
//!
//! Concurrent writers: a process about to compute an entry takes an
//! exclusive lock on `features/<key>.lock` ([`FeatureCache::lock`], an OS
//! file lock that the kernel releases when the process dies, however it
//! dies), then looks again: a second process computing the same model waits
//! for the first and reads its entry instead of computing it twice. The
//! lock files stay (removing one while another process waits on it would
//! let a third take a fresh lock).

use super::estimator::accumulator::{Estimate, SetResult};
use super::groups::LayerGroup;
use super::ModelFeatures;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::PathBuf;

const MAGIC: &[u8; 8] = b"LOSSYFC2";
const CHECKSUM: usize = 32;

/// What a cached model contributes besides its estimates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CachedModel {
    pub architecture: String,
    pub layers: usize,
    pub d: usize,
    pub non_embedding_params: usize,
    /// Every parameter, embeddings (and an untied LM head) included.
    #[serde(default)]
    pub total_params: usize,
}

/// The folder of the feature cache (`LOSSY_CACHE`, else the user cache);
/// chosen in the leaf [`crate::io::cache_dir`].
pub use crate::io::cache_dir::default_dir;

/// The cache key: sha256 over the JSON of `inputs` plus the code identity.
pub fn key(inputs: &serde_json::Value) -> String {
    let mut h = crate::io::hash::PartsHasher::new();
    h.part(env!("CARGO_PKG_VERSION").as_bytes())
        .part(env!("LOSSY_FEATURE_CODE").as_bytes())
        .part(inputs.to_string().as_bytes());
    h.finish()
}

/// The key inputs of layer group `layers` (hidden-state indices, 0 =
/// embeddings) of the model whose inputs are `inputs`: a group's entry is
/// content-addressed like a model's, with the range added.
pub fn group_inputs(inputs: &serde_json::Value, layers: &Range<usize>) -> serde_json::Value {
    let mut v = inputs.clone();
    if let Some(map) = v.as_object_mut() {
        map.insert(
            "layers".into(),
            serde_json::json!([layers.start, layers.end]),
        );
    }
    v
}

pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir: dir.join("features"),
        }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.bin"))
    }

    /// The cached entry, if present and intact.
    pub fn get(&self, key: &str) -> Option<(CachedModel, ModelFeatures)> {
        self.get_or_warn(key, &mut |_| {})
    }

    /// Like [`get`](Self::get), but tells `warn` when an entry exists and
    /// fails its checksum (it is then recomputed and replaced).
    pub fn get_or_warn(
        &self,
        key: &str,
        warn: &mut dyn FnMut(&str),
    ) -> Option<(CachedModel, ModelFeatures)> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        if !intact(&bytes) {
            warn(&format!(
                "warning: feature cache entry {} is corrupt or partially written (checksum mismatch); recomputing it",
                path.display()
            ));
            return None;
        }
        decode(&bytes[..bytes.len() - CHECKSUM], key)
    }

    /// Stores one layer group's estimates under its own key
    /// ([`group_inputs`]), so groups computed apart (passes of a budget,
    /// other processes or machines) merge later with
    /// [`super::groups::merge`]. Returns the group's key.
    pub fn put_group(
        &self,
        inputs: &serde_json::Value,
        model: &CachedModel,
        group: &LayerGroup,
    ) -> std::io::Result<String> {
        let inputs = group_inputs(inputs, &group.layers);
        let key = key(&inputs);
        let f = ModelFeatures {
            layers: group.estimates.clone(),
            replicates: group.replicates.clone(),
            rows: group.rows,
            documents: group.documents,
            tokens: group.tokens,
            loss: group.loss.unwrap_or_default(),
        };
        self.put(&key, &inputs, model, &f)?;
        Ok(key)
    }

    /// A layer group stored by [`put_group`](Self::put_group), if present
    /// and intact (`warn` as for [`get_or_warn`](Self::get_or_warn)).
    pub fn get_group(
        &self,
        inputs: &serde_json::Value,
        layers: Range<usize>,
        warn: &mut dyn FnMut(&str),
    ) -> Option<(CachedModel, LayerGroup)> {
        let key = key(&group_inputs(inputs, &layers));
        let (model, f) = self.get_or_warn(&key, warn)?;
        if f.layers.len() != layers.len() || f.replicates.iter().any(|r| r.len() != layers.len()) {
            return None;
        }
        let last = layers.end == model.layers + 1;
        let group = LayerGroup {
            layers,
            estimates: f.layers,
            replicates: f.replicates,
            loss: last.then_some(f.loss),
            rows: f.rows,
            documents: f.documents,
            tokens: f.tokens,
        };
        Some((model, group))
    }

    /// Takes the exclusive lock of entry `key`, waiting for another process
    /// that holds it (`waiting` is told first, once). The lock is released
    /// when the returned guard is dropped or the process ends.
    pub fn lock(&self, key: &str, waiting: &mut dyn FnMut()) -> std::io::Result<EntryLock> {
        std::fs::create_dir_all(&self.dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(format!("{key}.lock")))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        Ok(EntryLock { _file: file })
    }

    /// Stores an entry atomically. Failing to write the cache is not fatal
    /// for a run, so the error is returned for the caller to report.
    pub fn put(
        &self,
        key: &str,
        inputs: &serde_json::Value,
        model: &CachedModel,
        features: &ModelFeatures,
    ) -> std::io::Result<()> {
        // Only this entry's own temporaries: on a cache shared by machines, a
        // pid that is dead here may be a live writer elsewhere (of another
        // entry; this one's writers hold its lock).
        let pid_of = |rest: &str| rest.parse().ok();
        crate::io::pid::remove_dead_files(&self.dir, &format!(".{key}.bin.tmp-"), pid_of);
        let mut bytes = encode(key, inputs, model, features);
        let sum = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
        bytes.extend_from_slice(&sum);
        crate::io::atomic::write(&self.path(key), &bytes)
    }
}

/// Holds an entry's lock (see [`FeatureCache::lock`]); dropping it unlocks.
pub struct EntryLock {
    _file: std::fs::File,
}

/// Whether the trailing sha256 matches the bytes before it.
fn intact(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() + CHECKSUM && {
        let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM);
        <sha2::Sha256 as sha2::Digest>::digest(body).as_slice() == sum
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    key: String,
    lossy_version: String,
    inputs: serde_json::Value,
    model: CachedModel,
}

fn encode(
    key: &str,
    inputs: &serde_json::Value,
    model: &CachedModel,
    f: &ModelFeatures,
) -> Vec<u8> {
    let header = Header {
        key: key.into(),
        lossy_version: env!("CARGO_PKG_VERSION").into(),
        inputs: inputs.clone(),
        model: model.clone(),
    };
    let json = serde_json::to_vec(&header).expect("header serialises");
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    put_u64(&mut out, json.len() as u64);
    out.extend_from_slice(&json);
    for n in [
        f.rows,
        f.documents,
        f.tokens,
        f.layers.len(),
        f.replicates.len(),
    ] {
        put_u64(&mut out, n as u64);
    }
    for e in f.layers.iter().chain(f.replicates.iter().flatten()) {
        put_estimate(&mut out, e);
    }
    put_f64(&mut out, f.loss.nll);
    put_u64(&mut out, f.loss.tokens);
    put_u64(&mut out, f.loss.bytes);
    out
}

fn decode(bytes: &[u8], key: &str) -> Option<(CachedModel, ModelFeatures)> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(8)? != MAGIC {
        return None;
    }
    let len = r.u64()? as usize;
    let header: Header = serde_json::from_slice(r.take(len)?).ok()?;
    if header.key != key {
        return None;
    }
    let (rows, documents, tokens, n_layers, n_reps) = (
        r.u64()? as usize,
        r.u64()? as usize,
        r.u64()? as usize,
        r.u64()? as usize,
        r.u64()? as usize,
    );
    let layers = (0..n_layers)
        .map(|_| r.estimate())
        .collect::<Option<Vec<_>>>()?;
    let replicates = (0..n_reps)
        .map(|_| {
            (0..n_layers)
                .map(|_| r.estimate())
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<Vec<_>>>()?;
    let loss = super::lm_loss::LmLoss {
        nll: r.f64()?,
        tokens: r.u64()?,
        bytes: r.u64()?,
    };
    if r.at != bytes.len() {
        return None;
    }
    Some((
        header.model,
        ModelFeatures {
            layers,
            replicates,
            rows,
            documents,
            tokens,
            loss,
        },
    ))
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_f64(out: &mut Vec<u8>, v: f64) {
    put_u64(out, v.to_bits());
}

fn put_estimate(out: &mut Vec<u8>, e: &Estimate) {
    put_f64(out, e.entropy);
    put_f64(out, e.rows);
    put_u64(out, e.sets.len() as u64);
    for s in &e.sets {
        put_u64(out, s.name.len() as u64);
        out.extend_from_slice(s.name.as_bytes());
        for v in [
            s.entropy,
            s.conditional_entropy,
            s.mutual_information,
            s.regularity,
            s.rows,
        ] {
            put_f64(out, v);
        }
        put_u64(out, s.distinct as u64);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Some(s)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn f64(&mut self) -> Option<f64> {
        self.u64().map(f64::from_bits)
    }
    fn estimate(&mut self) -> Option<Estimate> {
        let entropy = self.f64()?;
        let rows = self.f64()?;
        let n = self.u64()? as usize;
        let mut sets = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let len = self.u64()? as usize;
            let name = String::from_utf8(self.take(len)?.to_vec()).ok()?;
            let (entropy, conditional_entropy, mutual_information, regularity, rows) = (
                self.f64()?,
                self.f64()?,
                self.f64()?,
                self.f64()?,
                self.f64()?,
            );
            sets.push(SetResult {
                name,
                entropy,
                conditional_entropy,
                mutual_information,
                regularity,
                rows,
                distinct: self.u64()? as usize,
            });
        }
        Some(Estimate {
            entropy,
            rows,
            sets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features() -> ModelFeatures {
        let set = |name: &str, x: f64| SetResult {
            name: name.into(),
            entropy: x,
            conditional_entropy: x / 3.0,
            mutual_information: f64::NAN,
            regularity: 0.1 + 0.2,
            rows: 7.0,
            distinct: 5,
        };
        let est = |x: f64| Estimate {
            entropy: x,
            rows: 12.0,
            sets: vec![set("input_1", x), set("output_1", -0.0)],
        };
        ModelFeatures {
            layers: vec![est(0.5), est(1.0 / 3.0)],
            replicates: vec![vec![est(0.25), est(f64::INFINITY)]],
            rows: 12,
            documents: 3,
            tokens: 15,
            loss: super::super::lm_loss::LmLoss {
                nll: 0.1 + 0.2,
                tokens: 11,
                bytes: 40,
            },
        }
    }

    fn same_bits(a: &ModelFeatures, b: &ModelFeatures) -> bool {
        let bits = |f: &ModelFeatures| {
            encode(
                "k",
                &serde_json::Value::Null,
                &CachedModel {
                    architecture: String::new(),
                    layers: 0,
                    d: 0,
                    non_embedding_params: 0,
                    total_params: 0,
                },
                f,
            )
        };
        bits(a) == bits(b)
    }

    #[test]
    fn entries_round_trip_bit_for_bit_and_damage_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path().to_path_buf());
        let model = CachedModel {
            architecture: "llama".into(),
            layers: 2,
            d: 32,
            non_embedding_params: 1000,
            total_params: 3000,
        };
        let inputs = serde_json::json!({"model": "abc"});
        let k = key(&inputs);
        assert!(cache.get(&k).is_none());
        cache.put(&k, &inputs, &model, &features()).unwrap();
        let (m, f) = cache.get(&k).unwrap();
        assert_eq!(m, model);
        assert!(
            same_bits(&f, &features()),
            "NaN, -0.0 and infinities survive exactly"
        );
        assert!(cache
            .get(&key(&serde_json::json!({"model": "abd"})))
            .is_none());
        // A truncated entry is a miss, not an error.
        let path = cache.path(&k);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(cache.get(&k).is_none());
        // One flipped bit anywhere is caught by the checksum and reported.
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x10;
        std::fs::write(&path, &flipped).unwrap();
        let mut warnings = Vec::new();
        assert!(cache
            .get_or_warn(&k, &mut |m| warnings.push(m.to_string()))
            .is_none());
        assert!(
            warnings.len() == 1 && warnings[0].contains("corrupt"),
            "{warnings:?}"
        );
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get(&k).is_some());
    }

    #[test]
    fn a_second_locker_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = std::sync::Arc::new(FeatureCache::new(dir.path().to_path_buf()));
        let held = cache
            .lock("k", &mut || panic!("nobody holds it yet"))
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let other = std::sync::Arc::clone(&cache);
        let waiter = std::thread::spawn(move || {
            let _lock = other.lock("k", &mut || tx.send(()).unwrap()).unwrap();
        });
        // The second locker has found the lock taken before we let go.
        rx.recv().unwrap();
        drop(held);
        waiter.join().unwrap();
        // Another key's lock is independent.
        let _a = cache.lock("k", &mut || panic!("released")).unwrap();
        let _b = cache.lock("j", &mut || panic!("another key")).unwrap();
    }
}
