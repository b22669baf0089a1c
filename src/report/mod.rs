//! Stage 7, report: everything a run produced, in one self-contained folder
//! `reports/<study>/`: `report.md`, `report.json` (every number), the tables
//! (CSV and parquet), the figures ([`figures`]), and `manifest.json` recording
//! what produced every number.
//!
//! The folder is built in a staging folder beside the target and moved into
//! place only when complete, so a failed run never leaves a partial report
//! (and an earlier complete report survives until the new one is ready).

mod baselines_md;
mod figure_data;
pub mod figures;
pub mod host;
pub mod json;
pub mod manifest;
mod markdown;
mod md_parts;
mod small_values;
mod summary_md;
pub mod target;

pub use figures::{draw_all as draw_figures, FigureData, WrittenFigure};
pub use host::{Host, GIT_COMMIT};
pub use manifest::{Manifest, ModelRecord};
pub use markdown::render as render_markdown;
pub use target::OutputError;

/// Writes `report.json` (see [`json`]) into `dir`.
pub fn write_json(dir: &Path, data: &FigureData, figures: &[WrittenFigure]) -> std::io::Result<()> {
    let scores = data.scores.map(|s| s.table());
    let doc = json::render(
        &data.study.name,
        data.models,
        data.layers,
        scores.as_ref(),
        data.fit,
        figures,
    );
    let bytes = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    crate::io::atomic::write(&dir.join("report.json"), &bytes)
}

use std::path::{Path, PathBuf};

/// A report folder under construction.
pub struct Staging {
    pub dir: PathBuf,
    target: PathBuf,
}

impl Staging {
    /// Refuses a `target` that is not a lossy report (see [`target`]), and
    /// cleans up what dead runs left beside it.
    pub fn new(target: &Path) -> Result<Self, OutputError> {
        let io = |source| OutputError::Io {
            path: target.to_path_buf(),
            source,
        };
        target::check(target)?;
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        target::clean_stale(parent, &name).map_err(io)?;
        let dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io)?;
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        Ok(Self {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// Moves the finished folder into place, replacing an older report.
    /// Where the system can exchange two folders in one step (Linux), a
    /// reader (`lossy watch`'s, say) sees the old report or the new one,
    /// never a missing folder.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        target::check(&self.target)?;
        if self.target.is_dir() && exchange(&self.dir, &self.target).is_ok() {
            // the old report is now in the staging folder, which drop removes
            return Ok(self.target.clone());
        }
        let io = |source| OutputError::Io {
            path: self.target.clone(),
            source,
        };
        let old = self.target.with_file_name(format!(
            ".{}.old-{}",
            self.target
                .file_name()
                .unwrap_or_default()
                .to_string_lossy(),
            std::process::id()
        ));
        if self.target.exists() {
            std::fs::rename(&self.target, &old).map_err(io)?;
        }
        std::fs::rename(&self.dir, &self.target).map_err(io)?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io)?;
        }
        let target = self.target.clone();
        std::mem::forget(self);
        Ok(target)
    }
}

/// Swaps two paths atomically (`renameat2` with `RENAME_EXCHANGE`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_is_removed_on_failure_and_replaces_on_commit() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("reports").join("demo");
        {
            let s = Staging::new(&target).unwrap();
            std::fs::write(s.dir.join("a"), "partial").unwrap();
        } // dropped: failure
        assert!(!target.exists());
        assert_eq!(
            std::fs::read_dir(root.path().join("reports"))
                .unwrap()
                .count(),
            0
        );
        let manifest = br#"{"lossy_version": "0.1.0"}"#;
        let s = Staging::new(&target).unwrap();
        std::fs::write(s.dir.join("a"), "one").unwrap();
        std::fs::write(s.dir.join("manifest.json"), manifest).unwrap();
        s.commit().unwrap();
        let s = Staging::new(&target).unwrap();
        std::fs::write(s.dir.join("b"), "two").unwrap();
        std::fs::write(s.dir.join("manifest.json"), manifest).unwrap();
        s.commit().unwrap();
        assert!(!target.join("a").exists() && target.join("b").exists());
        assert_eq!(
            std::fs::read_dir(root.path().join("reports"))
                .unwrap()
                .count(),
            1
        );
        // A folder that is not a report is never replaced.
        let user = root.path().join("papers");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(user.join("thesis.tex"), "mine").unwrap();
        assert!(matches!(
            Staging::new(&user),
            Err(OutputError::NotAReport { .. })
        ));
        assert_eq!(
            std::fs::read_to_string(user.join("thesis.tex")).unwrap(),
            "mine"
        );
    }
}
