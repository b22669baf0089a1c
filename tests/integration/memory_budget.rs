//! `features.memory` and layer groups: a model's pass split into groups of
//! layers (one pass over the corpus each) gives the same f64 bits, in every
//! estimate, replicate and LM-loss sum, as one pass over all layers; a
//! budget that forces several passes gives byte-identical report tables;
//! one too small for a single layer stops `lossy run` and `lossy plan`
//! with exit 2 before any model runs, naming the study file and key.

use super::support::{lossy, lossy_with_cache, root, text};
use candle_core::Device;
use lossy::features::budget::even_groups;
use lossy::features::estimator::Estimator;
use lossy::features::{extract, extract_passes, Estimate, FeatureSettings, ModelFeatures};
use lossy::models::{tokenizer::Tokenizer, Model, ModelFiles};
use std::path::{Path, PathBuf};

/// Every number of a model's features as bits (NaN and -0.0 compare exactly).
fn bits(f: &ModelFeatures) -> Vec<u64> {
    let est = |e: &Estimate, out: &mut Vec<u64>| {
        out.extend([e.entropy.to_bits(), e.rows.to_bits()]);
        for s in &e.sets {
            out.extend(s.name.bytes().map(u64::from));
            out.extend(
                [
                    s.entropy,
                    s.conditional_entropy,
                    s.mutual_information,
                    s.regularity,
                    s.rows,
                ]
                .map(f64::to_bits),
            );
            out.push(s.distinct as u64);
        }
    };
    let mut out = vec![f.rows as u64, f.documents as u64, f.tokens as u64];
    out.extend([f.loss.nll.to_bits(), f.loss.tokens, f.loss.bytes]);
    out.push(f.layers.len() as u64);
    for e in &f.layers {
        est(e, &mut out);
    }
    out.push(f.replicates.len() as u64);
    for e in f.replicates.iter().flatten() {
        est(e, &mut out);
    }
    out
}

fn corpus(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("data/corpus/demo.jsonl")).unwrap();
    text.lines()
        .take(n)
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// One pass against even splits into each of `passes` groups (every count
/// when empty) and two uneven splits.
fn check_groups(path: &Path, docs_n: usize, max_tokens: usize, passes: &[usize]) {
    let files = ModelFiles::locate(path).unwrap();
    let tok = Tokenizer::from_file(&files.tokenizer).unwrap();
    let model = Model::load(files, &Device::Cpu).unwrap();
    let (mut docs, mut ends) = (vec![], vec![]);
    for text in corpus(docs_n) {
        let (mut ids, mut e) = tok.encode_with_ends(&text, true).unwrap();
        ids.truncate(max_tokens);
        e.truncate(max_tokens);
        docs.push(ids);
        ends.push(e);
    }
    let est = Estimator::new(&Default::default(), model.hidden_size()).unwrap();
    let settings = FeatureSettings {
        orders: vec![1, 2],
        bootstrap: 4,
        bootstrap_blocks: Some(3),
        batch_size: 3,
        ..FeatureSettings::default()
    };
    let one = extract(&model, &docs, &ends, &settings, &est).unwrap();
    assert!(one.loss.tokens > 0 && one.replicates.len() == 4);
    let layers = model.num_layers() + 1;
    let counts: Vec<usize> = match passes {
        [] => (2..=layers).collect(),
        some => some.to_vec(),
    };
    let mut splits: Vec<Vec<std::ops::Range<usize>>> =
        counts.iter().map(|&p| even_groups(layers, p)).collect();
    splits.push(vec![0..1, 1..layers]);
    splits.push(vec![0..layers - 1, layers - 1..layers]);
    for groups in splits {
        let mut batches = 0;
        // the estimator on its own thread here, inline in the one pass
        let overlap = lossy::features::Overlap::On;
        let split = extract_passes(
            &model,
            &docs,
            &ends,
            &settings,
            &est,
            &groups,
            overlap,
            &mut |_| batches += 1,
        )
        .unwrap();
        assert_eq!(
            bits(&split),
            bits(&one),
            "{}: groups {groups:?} differ from one pass",
            path.display()
        );
        assert_eq!(batches, groups.len() * docs.len().div_ceil(3));
    }
}

#[test]
fn layer_groups_are_bit_identical_to_one_pass() {
    check_groups(&root().join("data/suite/l/step2048"), 12, 48, &[]);
    check_groups(&root().join("tests/fixtures/arch/qwen2"), 10, 40, &[]);
}

#[test]
fn layer_groups_are_bit_identical_on_smollm2_gguf() {
    let Some(path) = super::gguf::smollm2_path() else {
        return; // gguf.rs fails with how to fetch it, or LOSSY_SKIP_GGUF is set
    };
    // 31 hidden states: 2, 3 and 31 passes (one layer each).
    check_groups(&path, 4, 24, &[2, 3, 31]);
}

/// A study of `models` (names under data/tiny-llama) over the demo corpus.
fn study(dir: &Path, models: &[&str], memory: Option<&str>) -> PathBuf {
    let r = root();
    let mut yaml = String::from("version: 1\nname: budget\nmodels:\n");
    for m in models {
        yaml.push_str(&format!(
            "  - {{ name: {m}, path: {} }}\n",
            r.join("data/tiny-llama").join(m).display()
        ));
    }
    yaml.push_str(&format!(
        "corpus:\n  path: {}\n  max_documents: 40\n  max_tokens: 64\nfeatures:\n  orders: [1, 2]\n  bins: 40\n  bootstrap: 5\n",
        r.join("data/corpus/demo.jsonl").display()
    ));
    if let Some(m) = memory {
        yaml.push_str(&format!("  memory: {m}\n"));
    }
    let path = dir.join(format!("study-{}.yaml", memory.unwrap_or("none")));
    std::fs::write(&path, yaml).unwrap();
    path
}

fn plan_json(dir: &Path, study: &Path) -> serde_json::Value {
    let out = lossy(dir, &["plan", study.to_str().unwrap(), "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "plan: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn a_budget_that_forces_layer_groups_gives_identical_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let plain = study(d, &["tiny-a", "tiny-b"], None);
    let plan = plan_json(d, &plain);
    assert_eq!(plan["models"][0]["passes"], 1, "{plan}");
    // Room (85% of the budget) for exactly one layer of the larger model:
    // it takes one pass per layer.
    let budget = plan["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let need = &m["memory_need"];
            need["fixed"].as_u64().unwrap() + need["per_layer"].as_u64().unwrap()
        })
        .max()
        .map(lossy::features::budget::budget_for)
        .unwrap();
    let tight = study(d, &["tiny-a", "tiny-b"], Some(&budget.to_string()));
    let plan = plan_json(d, &tight);
    let mut passes = 0;
    for m in plan["models"].as_array().unwrap() {
        passes += m["passes"].as_u64().unwrap();
        assert!(m["passes"].as_u64().unwrap() >= 2, "{m}");
        assert!(m["peak_memory_bytes"].as_u64().unwrap() <= budget, "{m}");
    }
    let table = lossy(d, &["plan", tight.to_str().unwrap()]);
    let (stdout, _) = text(&table);
    assert!(stdout.contains("passes of at most"), "{stdout}");
    let a = lossy_with_cache(
        d,
        &d.join("cache-a"),
        &["run", plain.to_str().unwrap(), "-o", "a"],
    );
    assert!(a.status.success(), "{}", text(&a).1);
    let b = lossy_with_cache(
        d,
        &d.join("cache-b"),
        &["run", tight.to_str().unwrap(), "-o", "b"],
    );
    let (_, stderr) = text(&b);
    assert!(b.status.success(), "{stderr}");
    assert!(stderr.contains("passes over the corpus"), "{stderr}");
    for file in ["features.csv", "layers.csv"] {
        assert_eq!(
            std::fs::read(d.join("a").join(file)).unwrap(),
            std::fs::read(d.join("b").join(file)).unwrap(),
            "{file} differs between one pass and layer groups"
        );
    }
    // Each group has its own cache entry: without the models' entries (as
    // after an interrupted run), the groups are read back and merged.
    let mut groups = 0;
    for e in std::fs::read_dir(d.join("cache-b/features")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "bin") {
            continue;
        }
        if header(&path)["inputs"].get("layers").is_some() {
            groups += 1;
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    assert_eq!(groups, passes, "one entry per group");
    let c = lossy_with_cache(
        d,
        &d.join("cache-b"),
        &["run", tight.to_str().unwrap(), "-o", "c"],
    );
    let (_, stderr) = text(&c);
    assert!(c.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("(layer group entry)").count() as u64,
        passes,
        "{stderr}"
    );
    for file in ["features.csv", "layers.csv"] {
        assert_eq!(
            std::fs::read(d.join("a").join(file)).unwrap(),
            std::fs::read(d.join("c").join(file)).unwrap(),
            "{file} differs when merged from group entries"
        );
    }
}

/// The JSON header of a feature-cache entry.
fn header(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[16..16 + len]).unwrap()
}

#[test]
fn a_budget_too_small_for_one_layer_stops_before_any_model() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let small = study(d, &["tiny-a", "tiny-b"], Some("1MiB"));
    for cmd in ["run", "plan"] {
        let out = lossy(d, &[cmd, small.to_str().unwrap()]);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        for needle in [
            "`features.memory` in",
            "study-1MiB.yaml",
            "is 1.0 MiB",
            "model `tiny-a`",
            "per layer",
            "Set `features.memory` to at least",
        ] {
            assert!(stderr.contains(needle), "{cmd}: `{needle}` not in {stderr}");
        }
    }
    // Nothing ran: no report, no cache entry.
    assert!(super::support::files_below(&d.join("reports")).is_empty());
    let entries = std::fs::read_dir(d.join(".lossy-cache/features"))
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(entries, 0);
    // A size that is not one: the position of the key.
    let bad = study(d, &["tiny-a"], Some("lots"));
    let out = lossy(d, &["validate", bad.to_str().unwrap()]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`features.memory` is `lots`") && stderr.contains("study-lots.yaml:13:"),
        "{stderr}"
    );
}
