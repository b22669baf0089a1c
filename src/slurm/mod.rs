//! Slurm batch scripts for a study: a job array with one task per shard
//! (`lossy shard --index $SLURM_ARRAY_TASK_ID`, see
//! [`crate::pipeline::shard`]) and an assembly job (`lossy assemble`) that
//! the submission makes depend on the array (`afterok`). Resources come from
//! `lossy plan` ([`resources`]); rendering is a pure function of a
//! [`Jobs`] value, so the scripts are snapshot-tested; [`submit`] runs
//! `sbatch`.

pub mod submit;

use crate::pipeline::plan::Plan;
use std::fmt::Write as _;
use std::path::PathBuf;

/// What one job asks Slurm for.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub cpus: usize,
    pub mem_mib: u64,
    pub minutes: u64,
    /// GPUs (`--gres=gpu:N`); 0 asks for none.
    pub gpus: usize,
}

/// Everything the two scripts say (paths absolute).
#[derive(Clone, Debug)]
pub struct Jobs {
    pub study_name: String,
    pub study_file: PathBuf,
    pub study_sha256: String,
    /// Models (array tasks 0..shards).
    pub shards: usize,
    /// The lossy binary the jobs run.
    pub lossy: PathBuf,
    /// The jobs' working folder (`--chdir`).
    pub workdir: PathBuf,
    /// Where the scripts and `logs/` go.
    pub dir: PathBuf,
    /// The report folder the assembly writes.
    pub report: PathBuf,
    pub shard: Resources,
    pub assemble: Resources,
    pub partition: Option<String>,
    pub account: Option<String>,
    /// Extra `#SBATCH` options, as given (`--qos=high`).
    pub directives: Vec<String>,
    /// Exported in both jobs, in this order (LOSSY_CACHE first).
    pub env: Vec<(String, String)>,
    /// At most this many array tasks at once (`%N`).
    pub max_parallel: Option<u32>,
    pub offline: bool,
}

/// The planned resources of one array task: the largest model's planned
/// peak memory × 1.25 + 1 GiB, and 4 × its planned time (the plan counts
/// forward passes only) but at least 30 minutes. Models the plan could
/// not size are returned as the error.
pub fn resources(plan: &Plan, cpus: usize, gpus: usize) -> Result<Resources, Vec<String>> {
    let unsized_: Vec<String> = plan
        .models
        .iter()
        .filter(|m| m.peak_memory_bytes.is_none() || m.seconds.is_none())
        .map(|m| match &m.unresolved {
            Some(why) => format!("{}: {why}", m.name),
            None => format!("{}: no corpus, so no tokens", m.name),
        })
        .collect();
    if !unsized_.is_empty() {
        return Err(unsized_);
    }
    let peak = plan
        .models
        .iter()
        .filter_map(|m| m.peak_memory_bytes)
        .max()
        .unwrap_or(0);
    let seconds = plan
        .models
        .iter()
        .filter_map(|m| m.seconds)
        .fold(0.0, f64::max);
    Ok(Resources {
        cpus,
        mem_mib: (peak as f64 * 1.25 / (1u64 << 20) as f64).ceil() as u64 + 1024,
        minutes: ((4.0 * seconds / 60.0).ceil() as u64).max(30),
        gpus,
    })
}

/// What the scripts cannot say: `#SBATCH` lines end at a newline and
/// split at spaces, so the paths in them (the working and job folders)
/// must have no whitespace, and no option may hold a newline.
pub fn check(jobs: &Jobs) -> Result<(), String> {
    for (what, p) in [("working folder", &jobs.workdir), ("job folder", &jobs.dir)] {
        if p.to_string_lossy().contains(char::is_whitespace) {
            return Err(format!(
                "the {what} {} has whitespace, which an #SBATCH line cannot hold; use another folder",
                p.display()
            ));
        }
    }
    let options = jobs
        .directives
        .iter()
        .chain(&jobs.partition)
        .chain(&jobs.account);
    let env = jobs.env.iter().flat_map(|(k, v)| [k, v]);
    match options.chain(env).find(|o| o.contains(['\n', '\r'])) {
        Some(o) => Err(format!("{o:?} holds a line break")),
        None => Ok(()),
    }
}

/// Slurm's `days-hours:minutes:seconds`.
pub fn time_limit(minutes: u64) -> String {
    let (d, h, m) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    format!("{d}-{h:02}:{m:02}:00")
}

/// A word for `sh`: kept as is when it is plain, else single-quoted.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn header(out: &mut String, jobs: &Jobs, name: &str, r: &Resources, log: &str) {
    let mut line = |s: String| {
        out.push_str("#SBATCH ");
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("--job-name={name}"));
    line(format!("--chdir={}", jobs.workdir.display()));
    line(format!(
        "--output={}",
        jobs.dir.join("logs").join(log).display()
    ));
    line("--nodes=1".into());
    line("--ntasks=1".into());
    line(format!("--cpus-per-task={}", r.cpus));
    line(format!("--mem={}M", r.mem_mib));
    line(format!("--time={}", time_limit(r.minutes)));
    if r.gpus > 0 {
        line(format!("--gres=gpu:{}", r.gpus));
    }
    if let Some(p) = &jobs.partition {
        line(format!("--partition={p}"));
    }
    if let Some(a) = &jobs.account {
        line(format!("--account={a}"));
    }
    for d in &jobs.directives {
        line(d.clone());
    }
}

fn body(out: &mut String, jobs: &Jobs, command: &str, args: &[String]) {
    out.push_str("\nset -euo pipefail\n");
    for (k, v) in &jobs.env {
        let _ = writeln!(out, "export {k}={}", quote(v));
    }
    let mut words = vec![
        quote(&jobs.lossy.to_string_lossy()),
        command.to_string(),
        quote(&jobs.study_file.to_string_lossy()),
    ];
    words.extend(args.iter().cloned());
    words.push(format!("--expect-study-sha256 {}", jobs.study_sha256));
    words.push("--quiet".into());
    if jobs.offline {
        words.push("--offline".into());
    }
    let _ = writeln!(out, "exec {}", words.join(" "));
}

/// The array job: one task per shard.
pub fn shard_script(jobs: &Jobs) -> String {
    let mut out = String::from("#!/bin/bash\n");
    let _ = writeln!(
        out,
        "# lossy shards of study `{}` ({}): one array task per model.\n\
         # Resubmit failed tasks alone with: sbatch --array=I,J {}",
        jobs.study_name,
        jobs.study_file.display(),
        jobs.dir.join("shards.sbatch").display()
    );
    let limit = jobs
        .max_parallel
        .map(|n| format!("%{n}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "#SBATCH --array=0-{}{limit}",
        jobs.shards.saturating_sub(1)
    );
    header(
        &mut out,
        jobs,
        &format!("lossy-{}", jobs.study_name),
        &jobs.shard,
        "shard-%A_%a.out",
    );
    body(
        &mut out,
        jobs,
        "shard",
        &["--index \"$SLURM_ARRAY_TASK_ID\"".into()],
    );
    out
}

/// The assembly job (submitted with `--dependency=afterok:<array job>`).
pub fn assemble_script(jobs: &Jobs) -> String {
    let mut out = String::from("#!/bin/bash\n");
    let _ = writeln!(
        out,
        "# lossy report of study `{}` ({}) from its shards; submitted after the\n\
         # array job. Run it again alone with: sbatch {}",
        jobs.study_name,
        jobs.study_file.display(),
        jobs.dir.join("assemble.sbatch").display()
    );
    header(
        &mut out,
        jobs,
        &format!("lossy-{}-assemble", jobs.study_name),
        &jobs.assemble,
        "assemble-%j.out",
    );
    // An array task that failed leaves the dependency unsatisfiable: cancel
    // this job then rather than leave it pending.
    out.push_str("#SBATCH --kill-on-invalid-dep=yes\n");
    body(
        &mut out,
        jobs,
        "assemble",
        &[format!(
            "--output {}",
            quote(&jobs.report.to_string_lossy())
        )],
    );
    out
}

#[cfg(test)]
mod tests;
