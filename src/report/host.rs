//! The machine a report was produced on, and the lossy commit it was built from, for the
//! manifest. Everything is read cheaply and best-effort: a value that cannot be read is
//! "unknown", never an error.

use serde::Serialize;

/// `git rev-parse HEAD` at build time, or "unknown" when lossy was built outside a git
/// checkout; see `build.rs`. It names the commit, not uncommitted edits on top of it.
pub const GIT_COMMIT: &str = env!("LOSSY_GIT_COMMIT");

#[derive(Clone, Debug, Serialize)]
pub struct Host {
    pub hostname: String,
    pub os: &'static str,
    pub arch: &'static str,
    /// Logical CPUs available to this process.
    pub cpus: usize,
    pub cpu_model: String,
}

impl Host {
    pub fn current() -> Self {
        Host {
            hostname: hostname().unwrap_or_else(|| "unknown".into()),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
        }
    }
}

fn hostname() -> Option<String> {
    let from_file = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
}

/// The first `model name` of /proc/cpuinfo (Linux); `None` elsewhere.
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_described() {
        let h = Host::current();
        assert!(h.cpus >= 1);
        assert!(!h.hostname.is_empty() && !h.cpu_model.is_empty());
        assert_eq!(h.os, std::env::consts::OS);
        assert!(
            GIT_COMMIT == "unknown" || GIT_COMMIT.len() == 40,
            "{GIT_COMMIT}"
        );
    }
}
