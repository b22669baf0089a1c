//! Snapshot tests of the generated scripts: every line is asserted, so a
//! change to what lossy asks of Slurm shows up here.

use super::*;
use crate::pipeline::plan::ModelPlan;

fn jobs() -> Jobs {
    Jobs {
        study_name: "paper".into(),
        study_file: "/home/u/lossy/pipelines/paper.yaml".into(),
        study_sha256: "ab12".into(),
        shards: 40,
        lossy: "/home/u/bin/lossy".into(),
        workdir: "/home/u/lossy".into(),
        dir: "/home/u/lossy/slurm/paper".into(),
        report: "/home/u/lossy/reports/paper".into(),
        shard: Resources {
            cpus: 8,
            mem_mib: 40960,
            minutes: 1530,
            gpus: 1,
        },
        assemble: Resources {
            cpus: 2,
            mem_mib: 4096,
            minutes: 60,
            gpus: 0,
        },
        partition: Some("gpu".into()),
        account: Some("lab".into()),
        directives: vec!["--qos=high".into()],
        env: vec![
            ("LOSSY_CACHE".into(), "/shared/lossy cache".into()),
            ("HF_HOME".into(), "/shared/hf".into()),
        ],
        max_parallel: Some(8),
        offline: true,
    }
}

#[test]
fn the_array_script_asks_for_the_planned_resources() {
    assert_eq!(
        shard_script(&jobs()),
        r#"#!/bin/bash
# lossy shards of study `paper` (/home/u/lossy/pipelines/paper.yaml): one array task per model.
# Resubmit failed tasks alone with: sbatch --array=I,J /home/u/lossy/slurm/paper/shards.sbatch
#SBATCH --array=0-39%8
#SBATCH --job-name=lossy-paper
#SBATCH --chdir=/home/u/lossy
#SBATCH --output=/home/u/lossy/slurm/paper/logs/shard-%A_%a.out
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=8
#SBATCH --mem=40960M
#SBATCH --time=1-01:30:00
#SBATCH --gres=gpu:1
#SBATCH --partition=gpu
#SBATCH --account=lab
#SBATCH --qos=high

set -euo pipefail
export LOSSY_CACHE='/shared/lossy cache'
export HF_HOME=/shared/hf
exec /home/u/bin/lossy shard /home/u/lossy/pipelines/paper.yaml --index "$SLURM_ARRAY_TASK_ID" --expect-study-sha256 ab12 --quiet --offline
"#
    );
}

#[test]
fn the_assembly_script_runs_after_the_array_without_a_gpu() {
    let mut j = jobs();
    j.partition = None;
    j.account = None;
    j.directives.clear();
    j.offline = false;
    assert_eq!(
        assemble_script(&j),
        r#"#!/bin/bash
# lossy report of study `paper` (/home/u/lossy/pipelines/paper.yaml) from its shards; submitted after the
# array job. Run it again alone with: sbatch /home/u/lossy/slurm/paper/assemble.sbatch
#SBATCH --job-name=lossy-paper-assemble
#SBATCH --chdir=/home/u/lossy
#SBATCH --output=/home/u/lossy/slurm/paper/logs/assemble-%j.out
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=4096M
#SBATCH --time=0-01:00:00
#SBATCH --kill-on-invalid-dep=yes

set -euo pipefail
export LOSSY_CACHE='/shared/lossy cache'
export HF_HOME=/shared/hf
exec /home/u/bin/lossy assemble /home/u/lossy/pipelines/paper.yaml --output /home/u/lossy/reports/paper --expect-study-sha256 ab12 --quiet
"#
    );
}

#[test]
fn words_are_quoted_for_the_shell() {
    assert_eq!(quote("/a/b-c_d.e"), "/a/b-c_d.e");
    assert_eq!(quote("a b"), "'a b'");
    assert_eq!(quote("it's"), r"'it'\''s'");
    assert_eq!(quote("$HOME"), "'$HOME'");
    assert_eq!(quote(""), "''");
    assert_eq!(time_limit(30), "0-00:30:00");
    assert_eq!(time_limit(1440 * 3 + 61), "3-01:01:00");
}

fn model(name: &str, peak: Option<u64>, seconds: Option<f64>) -> ModelPlan {
    ModelPlan {
        name: name.into(),
        family: None,
        step: None,
        source: String::new(),
        commit: None,
        unresolved: peak.is_none().then(|| "no network".into()),
        architecture: None,
        layers: None,
        d: None,
        non_embedding_params: None,
        tokens: None,
        flops: None,
        peak_memory_bytes: peak,
        feature_state: None,
        memory_need: None,
        passes: None,
        layer_groups: None,
        budget_error: None,
        seconds,
        probe_sets: Vec::new(),
        cached: None,
    }
}

fn plan_of(models: Vec<ModelPlan>) -> Plan {
    Plan {
        study: "s".into(),
        corpus_documents: Some(1),
        corpus_sha256: Some("x".into()),
        corpus_unresolved: None,
        assumed_gflops: 60.0,
        memory_budget: None,
        models,
        total_flops: 0.0,
        total_seconds: 0.0,
        probe_sets: Vec::new(),
    }
}

#[test]
fn resources_take_the_largest_model_with_headroom() {
    let gib = 1u64 << 30;
    let p = plan_of(vec![
        model("a", Some(8 * gib), Some(600.0)),
        model("b", Some(2 * gib), Some(3600.0)),
    ]);
    // 8 GiB × 1.25 + 1 GiB; 4 × 60 min.
    assert_eq!(
        resources(&p, 4, 1),
        Ok(Resources {
            cpus: 4,
            mem_mib: 10 * 1024 + 1024,
            minutes: 240,
            gpus: 1
        })
    );
    // A short study still gets 30 minutes.
    let short = plan_of(vec![model("a", Some(gib), Some(1.0))]);
    assert_eq!(resources(&short, 1, 0).unwrap().minutes, 30);
    // A model the plan could not size is named.
    let open = plan_of(vec![
        model("a", Some(gib), Some(1.0)),
        model("z", None, None),
    ]);
    assert_eq!(
        resources(&open, 1, 0),
        Err(vec!["z: no network".to_string()])
    );
}

#[test]
fn what_an_sbatch_line_cannot_hold_is_refused() {
    assert_eq!(check(&jobs()), Ok(()));
    let mut j = jobs();
    j.dir = "/home/u/my jobs".into();
    assert!(check(&j).unwrap_err().contains("/home/u/my jobs"));
    let mut j = jobs();
    j.directives.push("--qos=a\n#SBATCH --mem=1".into());
    assert!(check(&j).unwrap_err().contains("line break"));
    let mut j = jobs();
    j.env.push(("X".into(), "a\nb".into()));
    assert!(check(&j).is_err());
}
