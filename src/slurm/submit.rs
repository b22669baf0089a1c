//! Submitting the two scripts with `sbatch --parsable`: the array first,
//! then the assembly with `--dependency=afterok:<array job id>`. An `sbatch`
//! that cannot be started or that refuses (no controller, a bad option) is
//! bad input for the CLI: it names the program and what it said.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("cannot run `{program}`: is Slurm's client (sbatch) installed and on PATH on this machine? The scripts are written; submit them from a login node")]
    NotFound {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program} {}` failed ({status}): {}", script.display(), stderr.trim())]
    Refused {
        program: String,
        script: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("`{program} --parsable` printed `{printed}`, not a job id")]
    NoJobId { program: String, printed: String },
}

/// The ids of the submitted jobs.
#[derive(Clone, Debug, PartialEq)]
pub struct Submitted {
    pub array: String,
    pub assemble: String,
}

/// Runs `program --parsable [extra…] script` and returns the job id.
pub fn sbatch(program: &str, extra: &[String], script: &Path) -> Result<String, SubmitError> {
    let out = Command::new(program)
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .map_err(|source| SubmitError::NotFound {
            program: program.into(),
            source,
        })?;
    if !out.status.success() {
        return Err(SubmitError::Refused {
            program: program.into(),
            script: script.into(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    job_id(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| SubmitError::NoJobId {
        program: program.into(),
        printed: String::from_utf8_lossy(&out.stdout).trim().into(),
    })
}

/// `12345` or `12345;cluster` (what `--parsable` prints) → `12345`.
pub fn job_id(printed: &str) -> Option<String> {
    let id = printed.trim().split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

/// Submits the array, then the assembly after it.
pub fn submit(program: &str, shards: &Path, assemble: &Path) -> Result<Submitted, SubmitError> {
    let array = sbatch(program, &[], shards)?;
    let assemble = sbatch(
        program,
        &[format!("--dependency=afterok:{array}")],
        assemble,
    )?;
    Ok(Submitted { array, assemble })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsable_output_gives_the_job_id() {
        assert_eq!(job_id("12345\n").as_deref(), Some("12345"));
        assert_eq!(job_id("678;cluster-a\n").as_deref(), Some("678"));
        assert_eq!(job_id("Submitted batch job 12"), None);
        assert_eq!(job_id(""), None);
    }

    #[test]
    fn a_missing_sbatch_is_named() {
        let e = sbatch(
            "/nonexistent/sbatch",
            &[],
            Path::new("/nonexistent/x.sbatch"),
        )
        .unwrap_err();
        assert!(matches!(e, SubmitError::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("/nonexistent/sbatch"), "{e}");
    }

    #[test]
    fn a_refusing_sbatch_is_reported_with_what_it_said() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("sbatch");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Unable to contact slurm controller' >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = submit(fake.to_str().unwrap(), Path::new("a"), Path::new("b")).unwrap_err();
        assert!(
            e.to_string().contains("Unable to contact slurm controller"),
            "{e}"
        );
    }

    #[test]
    fn the_assembly_depends_on_the_array() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("sbatch");
        let log = dir.path().join("calls");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho \"$@\" >> {}\necho \"$(wc -l < {}|tr -d ' ')0;c\"\n",
                log.display(),
                log.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let s = submit(fake.to_str().unwrap(), Path::new("s.sh"), Path::new("a.sh")).unwrap();
        assert_eq!(
            s,
            Submitted {
                array: "10".into(),
                assemble: "20".into()
            }
        );
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "--parsable s.sh\n--parsable --dependency=afterok:10 a.sh\n"
        );
    }
}
