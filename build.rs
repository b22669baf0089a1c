//! Records the git commit lossy is built from (`LOSSY_GIT_COMMIT`, shown in every report's
//! manifest). Without git or outside a checkout it is "unknown"; the build never fails for
//! it. A value already in the environment (e.g. set by a packager) wins.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string()).filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=LOSSY_GIT_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = match std::env::var("LOSSY_GIT_COMMIT") {
        Ok(v) if !v.is_empty() => v,
        _ => git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string()),
    };
    // Rebuild when HEAD moves (a commit or a checkout); paths are git's own, so this works
    // in worktrees too.
    for path in [git(&["rev-parse", "--git-path", "HEAD"]), git(&["rev-parse", "--symbolic-full-name", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r]))]
        .into_iter()
        .flatten()
    {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rustc-env=LOSSY_GIT_COMMIT={commit}");
}
