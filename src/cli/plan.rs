//! `lossy plan`: prints what a study will cost, per model, as a table or JSON.

use super::Failure;
use anyhow::Context;
use lossy::corpus::probe::ProbeKind;
use lossy::pipeline::plan::{plan, Plan};
use lossy::pipeline::RunOptions;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Study file (YAML, version 1).
    study: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Use only the hub cache (as HF_HUB_OFFLINE=1).
    #[arg(long)]
    offline: bool,
    /// Assumed forward-pass throughput in GFLOP/s [default: 15 per CPU core].
    #[arg(long, value_name = "GFLOPS", value_parser = positive_finite)]
    gflops: Option<f64>,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let study = lossy::study::load(&args.study).map_err(Failure::input)?;
    let mut progress = |msg: &str| eprintln!("{msg}");
    let p = plan(
        &study,
        &RunOptions {
            offline: args.offline,
            feature_cache: Some(lossy::features::cache::default_dir()),
            features_from: None,
            from_shards: false,
        },
        args.gflops,
        &mut progress,
    )
    .with_context(|| format!("planning {}", args.study.display()))
    .map_err(Failure::classify)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&p).expect("plan serialises")
        );
    } else {
        print!("{}", table(&p));
    }
    // A `features.memory` too small for one layer: the run would stop.
    if let Some(m) = p.models.iter().find(|m| m.budget_error.is_some()) {
        return Err(Failure {
            code: 2,
            error: anyhow::anyhow!("{}", m.budget_error.as_deref().unwrap_or_default()),
        });
    }
    Ok(())
}

/// `--gflops` must be a finite number above zero.
pub(super) fn positive_finite(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(format!("`{s}` is not a finite number above 0")),
        Err(e) => Err(format!("`{s}` is not a number ({e})")),
    }
}

fn table(p: &Plan) -> String {
    let head = [
        "model",
        "step",
        "source",
        "arch",
        "layers",
        "d",
        "params",
        "tokens",
        "FLOPs",
        "peak memory",
        "of it features",
        "passes",
        "time",
        "features",
    ];
    let mut rows: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    let opt = |v: Option<String>| v.unwrap_or_else(|| "?".into());
    for m in &p.models {
        let source = match &m.commit {
            Some(c) => format!("{} ({})", m.source, &c[..c.len().min(10)]),
            None => m.source.clone(),
        };
        rows.push(vec![
            m.name.clone(),
            m.step.map(|s| s.to_string()).unwrap_or_default(),
            source,
            opt(m.architecture.clone()),
            opt(m.layers.map(|v| v.to_string())),
            opt(m.d.map(|v| v.to_string())),
            opt(m.non_embedding_params.map(|v| si(v as f64))),
            opt(m.tokens.map(|v| si(v as f64))),
            opt(m.flops.map(si)),
            opt(m.peak_memory_bytes.map(bytes)),
            opt(m.feature_state.as_ref().map(|s| bytes(s.total()))),
            opt(m.passes.map(|v| v.to_string())),
            opt(m.seconds.map(duration)),
            match m.cached {
                Some(true) => "cached".into(),
                Some(false) => "to compute".into(),
                None => "?".into(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    match (&p.corpus_documents, &p.corpus_sha256, &p.corpus_unresolved) {
        (Some(n), Some(sha), _) => out.push_str(&format!(
            "\n{n} documents (sha256 {}); total {} FLOPs, about {} at {} GFLOP/s (forward passes only)\n",
            &sha[..12],
            si(p.total_flops),
            duration(p.total_seconds),
            p.assumed_gflops
        )),
        (_, _, reason) => out.push_str(&format!("\ncorpus not resolved ({}): tokens, FLOPs and time unknown\n", reason.as_deref().unwrap_or("?"))),
    }
    out.push_str(&budget_line(p));
    out.push_str(&probe_lines(p));
    for m in p.models.iter().filter(|m| m.unresolved.is_some()) {
        out.push_str(&format!(
            "{}: not resolved: {}\n",
            m.name,
            m.unresolved.as_deref().unwrap_or_default()
        ));
    }
    out
}

/// The memory budget, and what passes over the corpus cost where a model
/// needs more than one.
fn budget_line(p: &Plan) -> String {
    let Some(b) = &p.memory_budget else {
        return "memory budget unknown on this system: every model in one pass (set `features.memory`)\n".into();
    };
    let whence = match &b.study {
        Some(_) => "`features.memory`".to_string(),
        None => format!(
            "default: {:.0}% of the memory available now",
            lossy::features::budget::DEFAULT_FRACTION * 100.0
        ),
    };
    let mut out = format!("memory budget {} ({whence})", bytes(b.bytes));
    if p.models.iter().all(|m| m.passes.is_none()) {
        out.push_str(": passes unknown until a model and the corpus resolve\n");
        return out;
    }
    let split: Vec<&lossy::pipeline::plan::ModelPlan> = p
        .models
        .iter()
        .filter(|m| m.passes.is_some_and(|n| n > 1))
        .collect();
    if split.is_empty() {
        out.push_str(": every model in one pass over the corpus\n");
        return out;
    }
    out.push_str(&format!(
        ": {} of {} models need more than one pass over the corpus (layer groups); the times above include them\n",
        split.len(),
        p.models.len()
    ));
    for m in split {
        if let (Some(need), Some(groups), Some(flops)) = (&m.memory_need, &m.layer_groups, m.flops)
        {
            let one = flops / (p.assumed_gflops * 1e9);
            // the corpus's passes only (a probe set's pass is listed below)
            let widest = groups.iter().map(|g| g.len()).max().unwrap_or(0);
            let time =
                flops * lossy::features::budget::forward_cost(groups) / (p.assumed_gflops * 1e9);
            out.push_str(&format!(
                "  {}: {} passes of at most {widest} layers, peak {} (one pass: {}), forward time {} (one pass: {})\n",
                m.name,
                groups.len(),
                bytes(need.peak(widest)),
                bytes(need.peak(need.layers)),
                duration(time),
                duration(one),
            ));
        }
    }
    out
}

/// Each probe set, and each model's pass over it (included in the table's
/// peak memory and time); nothing for a study without probe sets.
fn probe_lines(p: &Plan) -> String {
    if p.probe_sets.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "probe sets (after the corpus, one pass over every layer each; in the peak memory and time above):\n",
    );
    for (i, set) in p.probe_sets.iter().enumerate() {
        match (&set.items, &set.sha256, &set.unresolved) {
            (Some(n), Some(sha), _) => {
                let (kind, what) = match set.kind {
                    ProbeKind::Text => ("text", "documents"),
                    ProbeKind::Preference => ("preference", "pairs"),
                };
                out.push_str(&format!(
                    "  {} ({kind}): {n} {what} (sha256 {})\n",
                    set.name,
                    &sha[..sha.len().min(12)]
                ))
            }
            (_, _, why) => out.push_str(&format!(
                "  {}: not resolved ({}): tokens, FLOPs and time unknown\n",
                set.name,
                why.as_deref().unwrap_or("?")
            )),
        }
        for m in &p.models {
            let Some(s) = m.probe_sets.get(i) else {
                continue;
            };
            let line = match (s.tokens, s.flops, s.peak_memory_bytes, s.seconds) {
                (Some(t), Some(f), Some(peak), Some(secs)) => format!(
                    "{} sequences, {} tokens, {} FLOPs, peak {} (of it features {}), {}",
                    s.sequences.unwrap_or(0),
                    si(t as f64),
                    si(f),
                    bytes(peak),
                    bytes(s.feature_state.as_ref().map_or(0, |f| f.total())),
                    duration(secs)
                ),
                _ => format!(
                    "? ({})",
                    s.unresolved.as_deref().unwrap_or("model not resolved")
                ),
            };
            out.push_str(&format!("    {}: {line}\n", m.name));
        }
    }
    out
}

fn si(v: f64) -> String {
    let (scale, unit) = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(s, _)| v >= *s)
        .unwrap_or((1.0, ""));
    format!("{:.1}{unit}", v / scale)
}

fn bytes(b: u64) -> String {
    let (scale, unit) = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        .into_iter()
        .find(|(s, _)| b >= *s)
        .unwrap_or((1, "B"));
    format!("{:.1} {unit}", b as f64 / scale as f64)
}

fn duration(s: f64) -> String {
    match s {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}
