//! Where a report may go. `-o DIR` replaces DIR only when it holds a lossy
//! report (a `manifest.json` with a `lossy_version`); anything else, a
//! user's folder or file, is refused before the run starts and left as it
//! was. Staging leftovers of dead processes (`.NAME.partial-PID`,
//! `.NAME.old-PID`) are cleaned up: a partial folder is removed, an old
//! report is put back when the target is missing (the process died between
//! the two renames of a commit) and removed otherwise.

use crate::io::pid::alive;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path} exists and is not a lossy report folder (no manifest.json written by lossy); lossy replaces only its own reports, so choose another -o or move it away")]
    NotAReport { path: PathBuf },
    #[error("cannot prepare the report folder {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Whether `dir` holds a report written by lossy.
pub fn is_report(dir: &Path) -> bool {
    let Ok(bytes) = std::fs::read(dir.join("manifest.json")) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("lossy_version").map(|v| v.is_string()))
        .unwrap_or(false)
}

/// Refuses a target that exists and is not a lossy report (symlinks
/// included: lossy never replaces a link).
pub fn check(target: &Path) -> Result<(), OutputError> {
    match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(OutputError::Io {
            path: target.to_path_buf(),
            source,
        }),
        Ok(m) if m.is_dir() && is_report(target) => Ok(()),
        Ok(_) => Err(OutputError::NotAReport {
            path: target.to_path_buf(),
        }),
    }
}

/// Removes or restores the staging leftovers of dead processes beside
/// `target` (named `.NAME.partial-PID` and `.NAME.old-PID`).
pub fn clean_stale(parent: &Path, name: &str) -> io::Result<()> {
    let target = parent.join(name);
    let partial = format!(".{name}.partial-");
    let old = format!(".{name}.old-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let (is_old, pid) = if let Some(pid) = file.strip_prefix(&partial) {
            (false, pid)
        } else if let Some(pid) = file.strip_prefix(&old) {
            (true, pid)
        } else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let path = entry.path();
        if alive(pid) || !entry.file_type()?.is_dir() {
            continue;
        }
        if is_old && !target.exists() && is_report(&path) {
            std::fs::rename(&path, &target)?;
        } else if !is_old || is_report(&path) {
            std::fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}
