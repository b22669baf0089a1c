//! Build-time facts lossy records in its outputs:
//! - `LOSSY_GIT_COMMIT`: the git commit lossy is built from (shown in every
//!   report's manifest). Without git or outside a checkout it is "unknown";
//!   the build never fails for it. A value already in the environment (e.g.
//!   set by a packager) wins.
//! - `LOSSY_FEATURE_CODE`: a hash of the source code that turns a model and a
//!   corpus into features (`src/features`, `src/corpus`, and the crates lossy-estimator,
//!   lossy-models and lossy-base's `math`). It is
//!   part of every feature-cache key, so changed code never serves cached
//!   numbers computed by the old code.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    git_commit();
    feature_code();
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string()).filter(|s| !s.is_empty())
}

fn git_commit() {
    println!("cargo:rerun-if-env-changed=LOSSY_GIT_COMMIT");
    let commit = match std::env::var("LOSSY_GIT_COMMIT") {
        Ok(v) if !v.is_empty() => v,
        _ => git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string()),
    };
    // Rebuild when HEAD moves (a commit or a checkout); paths are git's own,
    // so this works in worktrees too.
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["rev-parse", "--symbolic-full-name", "HEAD"])
            .and_then(|r| git(&["rev-parse", "--git-path", &r])),
    ]
    .into_iter()
    .flatten()
    {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rustc-env=LOSSY_GIT_COMMIT={commit}");
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn feature_code() {
    let mut files = Vec::new();
    for dir in [
        "src/features",
        "src/corpus",
        "crates/lossy-estimator/src",
        "crates/lossy-models/src",
        "crates/lossy-base/src/math",
    ] {
        println!("cargo:rerun-if-changed={dir}");
        sources(Path::new(dir), &mut files);
    }
    files.sort();
    // FNV-1a: stable across Rust versions, enough to tell code versions apart.
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for f in &files {
        f.to_string_lossy().replace('\\', "/").hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=LOSSY_FEATURE_CODE={:016x}", h.finish());
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
