//! `lossy slurm`: writes a study's Slurm jobs (an array of shards and the
//! assembly after it), sized by `lossy plan`, and with `--submit` submits
//! them. See `lossy::slurm`.

use super::Failure;
use anyhow::{anyhow, Context};
use lossy::models::DeviceSpec;
use lossy::pipeline::plan::plan;
use lossy::pipeline::RunOptions;
use lossy::slurm::{self, Jobs, Resources};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Study file (YAML, version 1).
    study: PathBuf,
    /// Folder for the scripts and the jobs' logs [default: slurm/<study name>].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Report folder the assembly job writes [default: reports/<study name>].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Feature cache the jobs share (exported as LOSSY_CACHE); it must be on a
    /// filesystem every node sees [default: $LOSSY_CACHE, else ~/.cache/lossy].
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Hugging Face cache the jobs share (exported as HF_HOME) [default: $HF_HOME when set].
    #[arg(long, value_name = "DIR")]
    hf_home: Option<PathBuf>,
    /// Another variable to export in both jobs (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = env_pair)]
    env: Vec<(String, String)>,
    /// Slurm partition of both jobs.
    #[arg(long)]
    partition: Option<String>,
    /// Slurm account of both jobs.
    #[arg(long)]
    account: Option<String>,
    /// An extra `#SBATCH` option for both jobs, e.g. `--sbatch-option=--qos=high` (repeatable).
    #[arg(long, value_name = "OPTION", allow_hyphen_values = true)]
    sbatch_option: Vec<String>,
    /// CPUs per array task.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    cpus_per_task: u16,
    /// GPUs per array task [default: enough for the study's features.device,
    /// e.g. 1 for `cuda`; 0 on the CPU].
    #[arg(long)]
    gpus: Option<usize>,
    /// Memory per array task, e.g. 24G or 4000M [default: from `lossy plan`].
    #[arg(long, value_parser = mem_mib)]
    mem: Option<u64>,
    /// Time limit per array task: minutes, H:MM:SS or D-HH:MM:SS [default: from `lossy plan`].
    #[arg(long, value_parser = minutes)]
    time: Option<u64>,
    /// Forward-pass throughput the time limit assumes, GFLOP/s per task
    /// [default: 15 per CPU of the task; required for a GPU study unless --time is given].
    #[arg(long, value_name = "GFLOPS", value_parser = super::plan::positive_finite)]
    gflops: Option<f64>,
    /// At most this many array tasks at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_parallel: Option<u32>,
    /// The lossy binary the jobs run [default: this one].
    #[arg(long, value_name = "PATH")]
    lossy: Option<PathBuf>,
    /// Jobs use only cached hub files (as HF_HUB_OFFLINE=1): fetch the models first.
    #[arg(long)]
    offline: bool,
    /// Submit the jobs with sbatch (the assembly with --dependency=afterok).
    #[arg(long)]
    submit: bool,
    /// The sbatch program.
    #[arg(long, value_name = "PROGRAM", default_value = "sbatch")]
    sbatch: String,
}

fn env_pair(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').ok_or("expected KEY=VALUE")?;
    let ok = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(format!("`{k}` is not a variable name"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// `24G`, `4000M`, `4000` (MiB), `1T` → MiB.
fn mem_mib(s: &str) -> Result<u64, String> {
    let (num, scale) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], -1),
        Some((i, 'M' | 'm')) => (&s[..i], 0),
        Some((i, 'G' | 'g')) => (&s[..i], 1),
        Some((i, 'T' | 't')) => (&s[..i], 2),
        _ => (s, 0),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 24G or 4000M"))?;
    Ok(match scale {
        -1 => n.div_ceil(1024),
        k => n << (10 * k),
    }
    .max(1))
}

/// `90`, `1:30:00`, `2-00:00:00` → minutes.
fn minutes(s: &str) -> Result<u64, String> {
    let bad = || format!("`{s}` is not a time like 90 (minutes), 1:30:00 or 2-00:00:00");
    let (days, rest) = match s.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().map_err(|_| bad())?, r),
        None => (0, s),
    };
    let parts: Vec<u64> = rest
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let m = match (days, parts.as_slice()) {
        (0, [m]) => *m,
        (_, [h, m, sec]) => h * 60 + m + sec.div_ceil(60),
        _ => return Err(bad()),
    };
    match days * 1440 + m {
        0 => Err(bad()),
        m => Ok(m),
    }
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let study = lossy::study::load(&args.study).map_err(Failure::input)?;
    let jobs = jobs(args, &study)?;
    slurm::check(&jobs).map_err(|e| Failure::input(anyhow!(e)))?;
    let cache = &jobs.env[0].1;
    if ["/tmp/", "/var/tmp/", "/dev/shm/"]
        .iter()
        .any(|p| cache.starts_with(p))
    {
        eprintln!("note: the feature cache {cache} looks node-local; on a cluster every node must see it (README, \"Running on a Slurm cluster\")");
    }
    let (shards, assemble) = write(&jobs)?;
    println!(
        "{} shards of {}: {} CPUs, {} MiB, {}{} per task; cache {}",
        jobs.shards,
        study.name,
        jobs.shard.cpus,
        jobs.shard.mem_mib,
        slurm::time_limit(jobs.shard.minutes),
        match jobs.shard.gpus {
            0 => String::new(),
            n => format!(", {n} GPU(s)"),
        },
        cache
    );
    println!("wrote {}\n      {}", shards.display(), assemble.display());
    if !args.submit {
        println!(
            "submit: J=$(sbatch --parsable {}) && sbatch --dependency=afterok:$J {}",
            shards.display(),
            assemble.display()
        );
        return Ok(());
    }
    let ids = slurm::submit::submit(&args.sbatch, &shards, &assemble).map_err(Failure::input)?;
    println!(
        "submitted: shards job {} (array 0-{}), assembly job {} (afterok)",
        ids.array,
        jobs.shards.saturating_sub(1),
        ids.assemble
    );
    println!(
        "a failed task: sbatch --array=I {} and then sbatch {}",
        shards.display(),
        assemble.display()
    );
    Ok(())
}

/// What the two scripts say, from the options and the plan (paths made absolute).
fn jobs(args: &Args, study: &lossy::study::Study) -> Result<Jobs, Failure> {
    let cwd = std::env::current_dir().map_err(Failure::running)?;
    let abs = |p: &Path| cwd.join(p);
    let cache = abs(&args
        .cache
        .clone()
        .unwrap_or_else(lossy::features::cache::default_dir));
    if let Some(hf) = &args.hf_home {
        // The plan resolves models and the corpus into the cache the jobs
        // use. Set before any other thread exists.
        std::env::set_var("HF_HOME", abs(hf));
    }
    let gpus = args.gpus.unwrap_or(match study.features.device {
        DeviceSpec::Cpu => 0,
        DeviceSpec::Cuda(n) => n + 1,
    });
    let (shard, shards) = task_resources(args, study, &cache, gpus)?;
    let or_default = |given: &Option<PathBuf>, top: &str| {
        abs(&given
            .clone()
            .unwrap_or_else(|| Path::new(top).join(&study.name)))
    };
    Ok(Jobs {
        study_name: study.name.clone(),
        study_file: study.file.clone(),
        study_sha256: study.file_sha256.clone(),
        shards,
        lossy: match &args.lossy {
            Some(p) => abs(p),
            None => std::env::current_exe().map_err(Failure::running)?,
        },
        workdir: cwd.clone(),
        dir: or_default(&args.dir, "slurm"),
        report: or_default(&args.output, "reports"),
        shard,
        assemble: Resources {
            cpus: 2,
            mem_mib: 4096,
            minutes: 60,
            gpus: 0,
        },
        partition: args.partition.clone(),
        account: args.account.clone(),
        directives: args.sbatch_option.clone(),
        env: environment(args, &cache),
        max_parallel: args.max_parallel,
        offline: args.offline,
    })
}

/// The array task's resources from the plan (or the options), and the number of shards.
fn task_resources(
    args: &Args,
    study: &lossy::study::Study,
    cache: &Path,
    gpus: usize,
) -> Result<(Resources, usize), Failure> {
    let cpus = args.cpus_per_task as usize;
    if gpus > 0 && args.gflops.is_none() && args.time.is_none() {
        return Err(Failure::input(anyhow!(
            "the study computes on a GPU, and lossy has no measured GPU throughput to plan its time \
             from: give --gflops (assumed GFLOP/s per task) or --time"
        )));
    }
    let mut progress = |msg: &str| eprintln!("{msg}");
    let p = plan(
        study,
        &RunOptions {
            offline: args.offline,
            feature_cache: Some(cache.to_path_buf()),
            features_from: None,
            from_shards: false,
        },
        Some(args.gflops.unwrap_or(15.0 * cpus as f64)),
        &mut progress,
    )
    .with_context(|| format!("planning {}", args.study.display()))
    .map_err(Failure::classify)?;
    let planned = slurm::resources(&p, cpus, gpus);
    let r = match (planned, args.mem, args.time) {
        (Ok(r), mem, time) => Resources {
            mem_mib: mem.unwrap_or(r.mem_mib),
            minutes: time.unwrap_or(r.minutes),
            ..r
        },
        (Err(_), Some(mem_mib), Some(minutes)) => Resources {
            cpus,
            mem_mib,
            minutes,
            gpus,
        },
        (Err(unsized_), _, _) => {
            let more = match unsized_.len() {
                n if n > 3 => format!(" (and {} more: see `lossy plan`)", n - 3),
                _ => String::new(),
            };
            return Err(Failure::input(anyhow!(
                "cannot size the array tasks: `lossy plan` could not size {} of {} models: {}{more}; \
                 give --mem and --time, or let the plan resolve them (network, or the models in HF_HOME)",
                unsized_.len(),
                p.models.len(),
                unsized_[..unsized_.len().min(3)].join("; ")
            )));
        }
    };
    Ok((r, p.models.len()))
}

/// LOSSY_CACHE, HF_HOME (when given or set), then `--env` in order.
fn environment(args: &Args, cache: &Path) -> Vec<(String, String)> {
    let mut env = vec![("LOSSY_CACHE".into(), cache.display().to_string())];
    // `--hf-home` is in HF_HOME by now (see `run`).
    if let Some(hf) = std::env::var_os("HF_HOME").map(PathBuf::from) {
        env.push((
            "HF_HOME".into(),
            std::path::absolute(&hf).unwrap_or(hf).display().to_string(),
        ));
    }
    env.extend(args.env.iter().cloned());
    env
}

/// Writes both scripts and makes the log folder (Slurm does not).
fn write(jobs: &Jobs) -> Result<(PathBuf, PathBuf), Failure> {
    let shards = jobs.dir.join("shards.sbatch");
    let assemble = jobs.dir.join("assemble.sbatch");
    for (path, text) in [
        (&shards, slurm::shard_script(jobs)),
        (&assemble, slurm::assemble_script(jobs)),
    ] {
        lossy::io::atomic::write(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
            .map_err(Failure::running)?;
    }
    let logs = jobs.dir.join("logs");
    std::fs::create_dir_all(&logs)
        .with_context(|| format!("creating {}", logs.display()))
        .map_err(Failure::running)?;
    Ok((shards, assemble))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_parse_like_slurm() {
        assert_eq!(mem_mib("24G"), Ok(24 * 1024));
        assert_eq!(mem_mib("4000M"), Ok(4000));
        assert_eq!(mem_mib("4000"), Ok(4000));
        assert_eq!(mem_mib("1T"), Ok(1 << 20));
        assert_eq!(mem_mib("1500K"), Ok(2));
        assert!(mem_mib("lots").is_err());
        assert_eq!(minutes("90"), Ok(90));
        assert_eq!(minutes("1:30:00"), Ok(90));
        assert_eq!(minutes("2-01:00:30"), Ok(2 * 1440 + 61));
        assert!(minutes("0").is_err());
        assert!(minutes("1:30").is_err());
        assert!(env_pair("HF_TOKEN=x=y").is_ok());
        assert!(env_pair("1A=b").is_err());
        assert!(env_pair("A-B=c").is_err());
    }
}
