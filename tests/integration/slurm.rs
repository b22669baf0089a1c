//! Shards and Slurm end to end with the real binary: the random-fixtures
//! study submitted through `lossy slurm --submit` to a real Slurm (CI starts a
//! one-node cluster with scripts/slurm_local.sh), its report's tables
//! byte-identical to a plain `lossy run`; a failed task resubmitted alone;
//! and the bad inputs (a study edited after its shards ran, a damaged cache
//! entry, an sbatch that cannot be run), each exit 2 with a clear message.

use super::support::{copy_dir, lossy_with_cache, root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The random-fixtures study and its data in a temp folder (editable).
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for sub in [
        "pipelines",
        "data/tiny-llama",
        "data/corpus",
        "data/demo",
        "tests/fixtures/arch",
    ] {
        copy_dir(&root().join(sub), &tmp.path().join(sub));
    }
    tmp
}

const STUDY: &str = "pipelines/random-fixtures.yaml";

/// The report files that must match byte for byte (the manifest and
/// report.md record timings and where features came from).
const TABLES: [&str; 11] = [
    "features.csv",
    "features.parquet",
    "layers.csv",
    "layers.parquet",
    "predictions.csv",
    "predictions.parquet",
    "correlations.csv",
    "correlations.parquet",
    "ranking.csv",
    "ranking.parquet",
    "fit.json",
];

fn assert_same_tables(a: &Path, b: &Path) {
    for f in TABLES {
        let (x, y) = (std::fs::read(a.join(f)), std::fs::read(b.join(f)));
        assert!(x.is_ok() && y.is_ok(), "{f} missing in {a:?} or {b:?}");
        assert!(x.unwrap() == y.unwrap(), "{f} differs");
    }
}

fn run(ws: &Path, cache: &Path, args: &[&str]) -> (Output, String, String) {
    let out = lossy_with_cache(ws, cache, args);
    let (o, e) = text(&out);
    (out, o, e)
}

/// `lossy slurm STUDY --submit` into `jobs/` and the report `from-slurm`,
/// with `extra` options: the assembly job's id.
fn submit(w: &Path, cache: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "slurm",
        STUDY,
        "--cpus-per-task",
        "1",
        "--dir",
        "jobs",
        "--output",
        "from-slurm",
    ];
    args.extend(extra);
    args.push("--submit");
    let (out, stdout, stderr) = run(w, cache, &args);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
        .split("assembly job ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no assembly job id in:\n{stdout}"))
        .to_string()
}

/// A plain `lossy run` (its own cache) writes the same tables as `report`.
fn assert_same_as_plain_run(w: &Path, report: &str) {
    let (out, o, e) = run(
        w,
        &w.join("own-cache"),
        &["run", STUDY, "-q", "-o", "plain"],
    );
    assert!(out.status.success(), "{o}\n{e}");
    assert_same_tables(&w.join(report), &w.join("plain"));
}

/// `sbatch` on PATH, if any.
fn sbatch() -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("sbatch"))
        .find(|p| p.is_file())
}

/// Whether Slurm's `sbatch` is here; says why a test skips when it is not
/// (and fails instead under `LOSSY_REQUIRE_SLURM`, as in CI).
fn slurm_present() -> bool {
    if sbatch().is_some() {
        return true;
    }
    assert!(
        std::env::var_os("LOSSY_REQUIRE_SLURM").is_none(),
        "LOSSY_REQUIRE_SLURM is set (CI) but `sbatch` is not on PATH"
    );
    eprintln!("skipping: `sbatch` is not on PATH (CI installs Slurm and starts a one-node cluster: scripts/slurm_local.sh install && scripts/slurm_local.sh start)");
    false
}

/// Waits until Slurm says the job ended; returns its state.
fn wait_for(job: &str, limit: Duration) -> String {
    let t0 = Instant::now();
    loop {
        let out = Command::new("scontrol")
            .args(["show", "job", job])
            .output()
            .expect("scontrol");
        let s = String::from_utf8_lossy(&out.stdout);
        let state = s
            .split_whitespace()
            .find_map(|w| w.strip_prefix("JobState="))
            .unwrap_or("UNKNOWN")
            .to_string();
        if !matches!(
            state.as_str(),
            "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING"
        ) {
            return state;
        }
        assert!(
            t0.elapsed() < limit,
            "job {job} still {state} after {limit:?}"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

#[test]
fn a_study_submitted_to_slurm_reports_what_a_plain_run_does() {
    if !slurm_present() {
        return;
    }
    let ws = workspace();
    let w = ws.path();
    let cache = w.join("shared-cache");
    let job = submit(w, &cache, &[]);
    let state = wait_for(&job, Duration::from_secs(900));
    let logs = w.join("jobs/logs");
    let log_text = super::support::files_below(&logs)
        .iter()
        .map(|p| format!("{}:\n{}", p.display(), std::fs::read_to_string(p).unwrap()))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(state, "COMPLETED", "{log_text}");
    for i in 0..8 {
        assert!(
            log_text.contains(&format!("shard {i} (")),
            "task {i} did not run: {log_text}"
        );
    }
    assert_same_as_plain_run(w, "from-slurm");
}

/// `sbatch ARGS` in `dir`, asserting it succeeds.
fn sbatch_ok(dir: &Path, args: &[&str]) {
    let out = Command::new("sbatch")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "sbatch {args:?}: {:?}", text(&out));
}

#[test]
fn a_failed_task_is_resubmitted_alone_and_the_assembly_follows() {
    if !slurm_present() {
        return;
    }
    let ws = workspace();
    let w = ws.path();
    let cache = w.join("shared-cache");
    // Task 3 fails the first time it runs (as a node failure would).
    let wrapper = w.join("lossy-failing-once");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nif [ \"$SLURM_ARRAY_TASK_ID\" = 3 ] && [ ! -e {m} ]; then touch {m}; echo failing on purpose >&2; exit 1; fi\nexec {lossy} \"$@\"\n",
            m = w.join("failed-once").display(),
            lossy = env!("CARGO_BIN_EXE_lossy")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let job = submit(w, &cache, &["--lossy", wrapper.to_str().unwrap()]);
    // The failed task makes the dependency unsatisfiable: Slurm cancels the assembly.
    assert_eq!(wait_for(&job, Duration::from_secs(900)), "CANCELLED");
    assert!(!w.join("from-slurm").exists());
    // The assembly names the missing shard and the command that brings it back.
    let (out, _, e) = run(w, &cache, &["assemble", STUDY, "-q", "-o", "from-slurm"]);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("3 tiny-d (no record)") && e.contains("--array=3 "),
        "{e}"
    );
    // As the README says: the task alone, then the assembly.
    sbatch_ok(w, &["--wait", "--array=3", "jobs/shards.sbatch"]);
    sbatch_ok(w, &["--wait", "jobs/assemble.sbatch"]);
    assert_same_as_plain_run(w, "from-slurm");
}

#[test]
fn shards_assemble_to_a_plain_run_and_refuse_what_does_not_belong() {
    let ws = workspace();
    let w = ws.path();
    let cache = w.join("cache");
    for i in 0..8 {
        let (out, o, e) = run(
            w,
            &cache,
            &["shard", STUDY, "--index", &i.to_string(), "-q"],
        );
        assert!(out.status.success(), "{o}\n{e}");
    }
    let (out, o, e) = run(w, &cache, &["assemble", STUDY, "-q", "-o", "assembled"]);
    assert!(out.status.success(), "{o}\n{e}");
    let (out, o, e) = run(w, &w.join("c2"), &["run", STUDY, "-q", "-o", "plain"]);
    assert!(out.status.success(), "{o}\n{e}");
    assert_same_tables(&w.join("assembled"), &w.join("plain"));

    // A damaged (partially written) cache entry: that shard is missing.
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(cache.join("shards/random-fixtures/tiny-e.json")).unwrap(),
    )
    .unwrap();
    let key = record["record"]["feature_cache_key"].as_str().unwrap();
    let entry = cache.join("features").join(format!("{key}.bin"));
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let (out, _, e) = run(w, &cache, &["assemble", STUDY, "-q", "-o", "assembled"]);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("1 of 8 shards are missing")
            && e.contains("4 tiny-e (cache entry absent or damaged)"),
        "{e}"
    );
    // The report of the earlier assembly is untouched.
    assert_same_tables(&w.join("assembled"), &w.join("plain"));
    std::fs::write(&entry, &bytes).unwrap();

    // The study edited after its shards ran: every shard is refused, by name.
    let study = w.join(STUDY);
    let yaml = std::fs::read_to_string(&study).unwrap();
    let submitted = record["study_sha256"].as_str().unwrap().to_string();
    std::fs::write(&study, yaml.replace("bins: 100", "bins: 90")).unwrap();
    let (out, _, e) = run(w, &cache, &["assemble", STUDY, "-q", "-o", "assembled"]);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("8 shards in")
            && e.contains("0 tiny-a (study sha256")
            && e.contains("7 gemma2-tiny"),
        "{e}"
    );
    // A task started after the edit refuses to run at all.
    let (out, _, e) = run(
        w,
        &cache,
        &[
            "shard",
            STUDY,
            "--index",
            "0",
            "--expect-study-sha256",
            &submitted,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("has changed since the jobs were submitted"),
        "{e}"
    );
}

#[test]
fn slurm_without_sbatch_writes_the_scripts_and_exits_2() {
    let ws = workspace();
    let w = ws.path();
    let cache = w.join("cache");
    let (out, o, e) = run(
        w,
        &cache,
        &[
            "slurm",
            STUDY,
            "--dir",
            "jobs",
            "--partition",
            "short",
            "--sbatch-option=--qos=low",
            "--env",
            "OMP_NUM_THREADS=4",
            "--submit",
            "--sbatch",
            "/nonexistent/bin/sbatch",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{o}\n{e}");
    assert!(
        e.contains("cannot run `/nonexistent/bin/sbatch`") && e.contains("installed and on PATH"),
        "{e}"
    );
    let script = std::fs::read_to_string(w.join("jobs/shards.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-7\n",
        "#SBATCH --partition=short\n",
        "#SBATCH --qos=low\n",
        "#SBATCH --cpus-per-task=4\n",
        "export OMP_NUM_THREADS=4\n",
        &format!("export LOSSY_CACHE={}\n", cache.display()),
    ] {
        assert!(script.contains(line), "{line:?} not in\n{script}");
    }
    assert!(!script.contains("--gres"), "a CPU study asks for no GPU");
    assert!(w.join("jobs/logs").is_dir() && w.join("jobs/assemble.sbatch").is_file());

    // A GPU study: no measured GPU throughput to plan from, so the time
    // must be given; then each task asks for the GPU.
    let study = w.join(STUDY);
    let yaml = std::fs::read_to_string(&study).unwrap();
    std::fs::write(
        &study,
        yaml.replace("features:\n", "features:\n  device: cuda\n"),
    )
    .unwrap();
    let (out, _, e) = run(w, &cache, &["slurm", STUDY, "--dir", "gpu-jobs"]);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("give --gflops") && e.contains("or --time"),
        "{e}"
    );
    let (out, o, e) = run(
        w,
        &cache,
        &["slurm", STUDY, "--dir", "gpu-jobs", "--time", "2:00:00"],
    );
    assert!(out.status.success(), "{o}\n{e}");
    let script = std::fs::read_to_string(w.join("gpu-jobs/shards.sbatch")).unwrap();
    assert!(
        script.contains("#SBATCH --gres=gpu:1\n") && script.contains("#SBATCH --time=0-02:00:00\n"),
        "{script}"
    );
    let assemble = std::fs::read_to_string(w.join("gpu-jobs/assemble.sbatch")).unwrap();
    assert!(!assemble.contains("--gres"), "{assemble}");
}
