//! Leftovers of dead processes: temporary names carry the writer's process
//! id (`…-PID…`), and a later run removes only those whose process is gone,
//! so a live process's work in progress is never touched.

use std::path::Path;

/// Whether process `pid` is alive (signal 0 probes without signalling).
pub fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes the plain files in `dir` named `{prefix}{PID}{rest}` whose
/// process is dead (`pid_of` extracts PID from the part after `prefix`).
/// Errors are ignored: another process may be cleaning the same leftover.
pub fn remove_dead_files(dir: &Path, prefix: &str, pid_of: impl Fn(&str) -> Option<u32>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(prefix).and_then(&pid_of) else {
            continue;
        };
        if !alive(pid) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_dead_processes_files() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        // A pid above the kernel's maximum (4194304) is never alive.
        let dead = 4_194_305u32 + 17;
        for n in [
            format!(".x-{me}-0.y"),
            format!(".x-{dead}-0.y"),
            "other".into(),
        ] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        remove_dead_files(dir.path(), ".x-", |s| s.split('-').next()?.parse().ok());
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, vec![format!(".x-{me}-0.y"), "other".to_string()]);
        assert!(alive(me) && !alive(dead));
    }
}
