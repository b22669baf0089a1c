//! The real `lossy` binary end to end: the demo study, bad studies, bad
//! inputs to `estimate`, and exit codes (0 ok, 2 bad input, 1 failure).

use super::support::{copy_dir, lossy, lossy_with_cache, root, text};
use std::path::Path;

/// Copies the studies next to their data in a temp folder layout that
/// mirrors the repository, so reports land in the temp folder.
fn demo_workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["pipelines", "data", "tests/fixtures/arch"] {
        copy_dir(&root().join(sub), &tmp.path().join(sub));
    }
    tmp
}

#[test]
fn demo_study_writes_a_complete_report_and_is_reproducible() {
    let ws = demo_workspace();
    let out = lossy(
        ws.path(),
        &["run", "pipelines/random-fixtures.yaml", "--quiet"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    let report = ws.path().join("reports").join("random-fixtures");
    for f in [
        "report.md",
        "features.csv",
        "features.parquet",
        "layers.csv",
        "predictions.csv",
        "correlations.csv",
        "ranking.csv",
        "fit.json",
        "manifest.json",
        "report.json",
    ] {
        assert!(report.join(f).is_file(), "missing {f}");
    }
    // Every figure the demo's data supports, in every format the study asks for. The demo
    // declares no checkpoint steps, so there is no trajectory.
    for stem in [
        "information_plane",
        "information_plane_layers",
        "layer_profiles",
        "scores_vs_optimality",
        "predicted_vs_actual",
        "ranking",
        "correlations",
    ] {
        for ext in ["svg", "png", "pdf"] {
            let f = report.join("figures").join(format!("{stem}.{ext}"));
            assert!(
                f.is_file() && std::fs::metadata(&f).unwrap().len() > 1000,
                "missing {stem}.{ext}"
            );
        }
        let md = std::fs::read_to_string(report.join("report.md")).unwrap();
        assert!(
            md.contains(&format!("](figures/{stem}.png)")),
            "report.md does not show {stem}"
        );
    }
    assert!(!report.join("figures/trajectory.svg").exists());
    let pdf = std::fs::read(report.join("figures/layer_profiles.pdf")).unwrap();
    let pdf = String::from_utf8_lossy(&pdf);
    assert!(pdf.starts_with("%PDF-") && pdf.contains("/FontFile2") && pdf.contains("DejaVuSans"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["models"].as_array().unwrap().len(), 8);
    assert!(json["layers"].as_array().unwrap().len() > 8);
    assert!(json["fit"]["correlations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["feature"] == "optimality"));
    assert_eq!(json["fit"]["ranking"].as_array().unwrap().len(), 2);
    assert_eq!(json["figures"].as_array().unwrap().len(), 7);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["lossy_version"], env!("CARGO_PKG_VERSION"));
    let commit = manifest["git_commit"].as_str().unwrap();
    assert!(commit == "unknown" || commit.len() == 40, "{commit}");
    assert!(manifest["host"]["cpus"].as_u64().unwrap() >= 1 && manifest["host"]["os"].is_string());
    assert!(manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "figures/correlations.pdf"));
    assert_eq!(manifest["study"]["name"], "random-fixtures");
    assert_eq!(manifest["corpus"]["sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["models"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["sha256"].as_str().unwrap().len() == 64));
    assert!(manifest["estimators"][0]["epsilon"].as_f64().unwrap() > 0.0);
    let features = std::fs::read(report.join("features.csv")).unwrap();
    let header = String::from_utf8_lossy(&features)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(header.starts_with("model,family,layers,d,params,log_params,params_total,loss,bits_per_byte,documents,tokens,rows,entropy,complexity,expressivity,optimality"), "{header}");
    // The two models without a score are predicted and ranked.
    let ranking = std::fs::read_to_string(report.join("ranking.csv")).unwrap();
    assert!(
        ranking.starts_with("rank,model,predicted,lower,upper")
            && ranking.contains("qwen2-tiny")
            && ranking.contains("gemma2-tiny"),
        "{ranking}"
    );
    assert!(std::fs::read_to_string(report.join("correlations.csv"))
        .unwrap()
        .contains("\noptimality,6,"));

    // Bootstrap intervals bracket each model's estimate.
    let table = lossy::table::Table::read_csv(&report.join("features.csv")).unwrap();
    for col in ["complexity", "expressivity", "optimality"] {
        let (v, lo, hi) = (
            table.f64s(col).unwrap(),
            table.f64s(&format!("{col}_lo")).unwrap(),
            table.f64s(&format!("{col}_hi")).unwrap(),
        );
        for i in 0..v.len() {
            assert!(
                lo[i] < v[i] && v[i] < hi[i],
                "{col} row {i}: {} not in [{}, {}]",
                v[i],
                lo[i],
                hi[i]
            );
        }
    }

    // A second run, computed afresh, gives byte-identical features; a third
    // takes every model from the feature cache and gives them again.
    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--quiet",
            "--no-cache",
            "--output",
            "again",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(
        features,
        std::fs::read(ws.path().join("again").join("features.csv")).unwrap(),
        "features.csv differs between runs"
    );
    assert_eq!(
        std::fs::read(report.join("layers.csv")).unwrap(),
        std::fs::read(ws.path().join("again/layers.csv")).unwrap()
    );
    // and the same figures, byte for byte, PDFs included
    for entry in std::fs::read_dir(report.join("figures")).unwrap() {
        let path = entry.unwrap().path();
        let again = ws
            .path()
            .join("again/figures")
            .join(path.file_name().unwrap());
        assert!(
            std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap(),
            "{} differs between runs",
            path.display()
        );
    }
    assert!(manifest["models"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["from_cache"] == false));
    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--output",
            "cached",
        ],
    );
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("(cached)").count(),
        8,
        "every model from the cache:\n{stderr}"
    );
    assert_eq!(
        features,
        std::fs::read(ws.path().join("cached/features.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(report.join("layers.csv")).unwrap(),
        std::fs::read(ws.path().join("cached/layers.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(report.join("predictions.csv")).unwrap(),
        std::fs::read(ws.path().join("cached/predictions.csv")).unwrap()
    );

    // Fitting the features of that run, read from its table, runs no model and
    // reproduces the fit; the table's provenance is in the manifest.
    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--features",
            "reports/random-fixtures/features.parquet",
            "--output",
            "refit",
        ],
    );
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no model is run") && !stderr.contains("[1/8]"),
        "{stderr}"
    );
    for f in [
        "predictions.csv",
        "ranking.csv",
        "correlations.csv",
        "features.csv",
        "layers.csv",
    ] {
        let (a, b) = (
            std::fs::read_to_string(report.join(f)).unwrap(),
            std::fs::read_to_string(ws.path().join("refit").join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs after a read and write:\n{a}\n---\n{b}");
    }
    let refit: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("refit/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        refit["features_from"]["sha256"].as_str(),
        Some(
            lossy::io::hash::sha256_file(&report.join("features.parquet"))
                .unwrap()
                .as_str()
        )
    );
    assert!(refit["corpus"].is_null() && refit["models"].as_array().unwrap().is_empty());
    assert!(
        ws.path().join("refit/figures/layer_profiles.svg").is_file(),
        "the layers table beside it feeds the per-layer figures"
    );
    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--features",
            "reports/random-fixtures/layers.csv",
            "--output",
            "bad",
        ],
    );
    let (_, stderr) = text(&out);
    assert!(
        !out.status.success()
            && stderr.contains("model `tiny-a` has several rows; give the per-model table"),
        "{stderr}"
    );
}

/// A run killed after its first model resumes: the finished model comes from
/// the feature cache, and the results equal an uninterrupted run's.
#[test]
fn an_interrupted_run_resumes_from_the_feature_cache() {
    use std::io::{BufRead, BufReader};
    let ws = demo_workspace();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args([
            "run",
            "pipelines/random-fixtures.yaml",
            "--output",
            "killed",
        ])
        .current_dir(ws.path())
        .env("LOSSY_CACHE", ws.path().join(".lossy-cache"))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().starts_with("[1/8]") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!ws.path().join("killed").exists(), "no partial report");
    // entries only, not their lock files
    let entries = std::fs::read_dir(ws.path().join(".lossy-cache/features"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "bin")
        })
        .count();
    assert!(
        (1..8).contains(&entries),
        "{entries} cache entries: the kill came too late to test resuming"
    );

    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--output",
            "resumed",
        ],
    );
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("[1/8] tiny-a") && stderr.lines().next_back().is_some());
    assert_eq!(stderr.matches("(cached)").count(), entries, "{stderr}");
    let fresh = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--quiet",
            "--no-cache",
            "--output",
            "fresh",
        ],
    );
    assert!(fresh.status.success());
    for f in [
        "features.csv",
        "layers.csv",
        "predictions.csv",
        "ranking.csv",
    ] {
        assert_eq!(
            std::fs::read(ws.path().join("resumed").join(f)).unwrap(),
            std::fs::read(ws.path().join("fresh").join(f)).unwrap(),
            "{f}"
        );
    }

    // Changing one model (here its RoPE base) recomputes that model only.
    let changed = ws.path().join("data/tiny-llama/tiny-a");
    let config = std::fs::read_to_string(changed.join("config.json")).unwrap();
    std::fs::write(
        changed.join("config.json"),
        config.replace("\"rope_theta\": 10000.0", "\"rope_theta\": 20000.0"),
    )
    .unwrap();
    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/random-fixtures.yaml",
            "--output",
            "changed",
        ],
    );
    let (_, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("(cached)").count(), 7, "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("[1/8] tiny-a") && !l.ends_with("(cached)")),
        "{stderr}"
    );
}

#[test]
fn every_pipeline_validates() {
    let dir = root().join("pipelines");
    let cache = tempfile::tempdir().unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let out = lossy_with_cache(&root(), cache.path(), &["validate", p.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {:?}", p.display(), text(&out));
            n += 1;
        }
    }
    assert!(n >= 1);
}

fn write_study(dir: &Path, yaml: &str) -> String {
    let p = dir.join("study.yaml");
    std::fs::write(&p, yaml).unwrap();
    p.to_string_lossy().into_owned()
}

fn demo_model() -> String {
    root()
        .join("data/tiny-llama/tiny-a")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn yaml_syntax_error_reports_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(
        tmp.path(),
        "version: 1\nmodels:\n  - path: x\n   bad indent: [\n",
    );
    let out = lossy(tmp.path(), &["validate", &study]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("study.yaml:4:"), "{stderr}");
}

#[test]
fn unknown_key_is_named_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.txt"), "hello world\n").unwrap();
    let study = write_study(
        tmp.path(),
        &format!(
            "version: 1\nmodels:\n  - path: {}\ncorpus:\n  path: c.txt\nfeatures:\n  bin: 10\n",
            demo_model()
        ),
    );
    let out = lossy(tmp.path(), &["run", &study]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("study.yaml:7:3: unknown key `bin` in `features`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `bins`?"), "{stderr}");
}

#[test]
fn missing_model_folder_exits_2_and_leaves_no_report() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.txt"), "hello world\n").unwrap();
    let study = write_study(
        tmp.path(),
        "version: 1\nname: nomodel\nmodels:\n  - path: models/absent\ncorpus:\n  path: c.txt\n",
    );
    let out = lossy(tmp.path(), &["run", &study]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("model folder `models/absent` does not exist"),
        "{stderr}"
    );
    assert!(
        !tmp.path().join("reports").exists(),
        "a partial report was left behind"
    );
}

#[test]
fn corpus_without_usable_text_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("c.jsonl"),
        "{\"text\": \"   \"}\n{\"text\": \"\"}\n",
    )
    .unwrap();
    let study = write_study(
        tmp.path(),
        &format!(
            "version: 1\nmodels:\n  - path: {}\ncorpus:\n  path: c.jsonl\n",
            demo_model()
        ),
    );
    let out = lossy(tmp.path(), &["run", &study]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "bad input: {stderr}");
    assert!(stderr.contains("no usable text"), "{stderr}");
    let reports = tmp.path().join("reports");
    assert!(
        !reports.exists() || std::fs::read_dir(&reports).unwrap().count() == 0,
        "partial report left behind"
    );
}

#[test]
fn corpus_too_short_for_any_position_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("c.txt"), "a\n\nb\n").unwrap();
    let study = write_study(
        tmp.path(),
        &format!(
            "version: 1\nmodels:\n  - path: {}\ncorpus:\n  path: c.txt\n  max_tokens: 1\n",
            demo_model()
        ),
    );
    let out = lossy(tmp.path(), &["run", &study]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "bad input: {stderr}");
    assert!(stderr.contains("no estimator positions"), "{stderr}");
}

mod estimate {
    use super::*;
    use lossy::io::npy;

    fn write(dir: &Path, name: &str, bytes: Vec<u8>) -> String {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    }

    #[test]
    fn prints_json_for_embeddings_and_labels() {
        let tmp = tempfile::tempdir().unwrap();
        let z: Vec<f32> = (0..40)
            .map(|i| ((i * 7919) % 23) as f32 - 11.0 + 0.5)
            .collect();
        let zp = write(tmp.path(), "z.npy", npy::encode_f32(&[10, 4], &z));
        let lp = write(
            tmp.path(),
            "l.npy",
            npy::encode_i64(&[10], &[0, 1, 0, 1, 2, 2, 0, 1, 2, 0]),
        );
        let tp = write(
            tmp.path(),
            "t.npy",
            npy::encode_i64(
                &[10, 2],
                &[0, 1, 0, 1, 2, 2, 0, 1, 2, 0, 1, 1, 1, 1, 0, 0, 0, 0, 3, 3],
            ),
        );
        let out = lossy(
            tmp.path(),
            &[
                "estimate",
                "--embeddings",
                &zp,
                "--labels",
                &format!("x={lp}"),
                "--labels",
                &format!("pair={tp}"),
                "--bins",
                "8",
                "--null",
            ],
        );
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        for key in [
            "epsilon",
            "entropy",
            "calibration",
            "mutual_information",
            "regularity",
            "mutual_information_null",
        ] {
            assert!(!v[key].is_null(), "missing {key} in {stdout}");
        }
        assert_eq!(v["calibration"], "find-eps");
        assert_eq!(v["distinct_labels"]["pair"], 6);
        assert!(v["mutual_information"]["x"].as_f64().unwrap().is_finite());
    }

    #[test]
    fn bad_inputs_exit_2_with_a_clear_message() {
        let tmp = tempfile::tempdir().unwrap();
        let good = write(
            tmp.path(),
            "z.npy",
            npy::encode_f32(&[3, 3], &[1., 0., 0., 0., 1., 0., 0., 0., 1.]),
        );
        let cases: Vec<(Vec<String>, &str)> = vec![
            (
                vec![write(
                    tmp.path(),
                    "zero.npy",
                    npy::encode_f32(&[2, 3], &[1., 0., 0., 0., 0., 0.]),
                )],
                "row 1 is all zeros",
            ),
            (
                vec![write(
                    tmp.path(),
                    "nan.npy",
                    npy::encode_f32(&[1, 3], &[1., f32::NAN, 0.]),
                )],
                "non-finite",
            ),
            (
                vec![write(
                    tmp.path(),
                    "empty.npy",
                    npy::encode_f32(&[0, 3], &[]),
                )],
                "empty",
            ),
            (
                vec![write(
                    tmp.path(),
                    "d2.npy",
                    npy::encode_f32(&[2, 2], &[1., 0., 0., 1.]),
                )],
                "needs d > 2",
            ),
            (
                vec![write(tmp.path(), "junk.npy", b"not an array".to_vec())],
                "not a valid .npy",
            ),
            (
                vec![
                    good.clone(),
                    "--labels".into(),
                    format!(
                        "x={}",
                        write(tmp.path(), "l.npy", npy::encode_i64(&[2], &[0, 1]))
                    ),
                ],
                "has 2 rows, but the embeddings have 3",
            ),
            (
                vec![
                    good.clone(),
                    "--reference-points".into(),
                    write(tmp.path(), "w.npy", npy::encode_f32(&[2, 4], &[1.; 8])),
                ],
                "width 4",
            ),
        ];
        for (args, needle) in cases {
            let mut full = vec!["estimate".to_string(), "--embeddings".into()];
            full.extend(args);
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            let out = lossy(tmp.path(), &refs);
            let (_, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{full:?}: {stderr}");
            assert!(
                stderr.contains(needle),
                "{full:?}: expected `{needle}` in: {stderr}"
            );
        }
    }
}

mod model_tools {
    use super::*;
    use lossy::io::npy;

    fn reference(dir: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap()
    }

    /// `next-token` log-probabilities equal log-softmax of transformers' logits.
    #[test]
    fn next_token_matches_transformers() {
        let dir = root().join("data/tiny-llama/tiny-c");
        let r = reference(&dir);
        let text = r["sequences"][0]["text"].as_str().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let out = lossy_with_cache(
            &root(),
            cache.path(),
            &[
                "next-token",
                "--model",
                dir.to_str().unwrap(),
                "--text",
                text,
                "--top",
                "5",
            ],
        );
        let (stdout, stderr) = text_of(&out);
        assert!(out.status.success(), "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let logits = npy::read(&dir.join("logits_last_0.npy"))
            .unwrap()
            .to_f32()
            .unwrap();
        let max = logits.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
        let lse = max
            + logits
                .iter()
                .map(|&x| (x as f64 - max).exp())
                .sum::<f64>()
                .ln();
        let mut best: Vec<usize> = (0..logits.len()).collect();
        best.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        for (k, entry) in v["top"].as_array().unwrap().iter().enumerate() {
            assert_eq!(entry["id"].as_u64().unwrap() as usize, best[k], "rank {k}");
            let want = logits[best[k]] as f64 - lse;
            assert!(
                (entry["logprob"].as_f64().unwrap() - want).abs() < 1e-4,
                "rank {k}: {entry} vs {want}"
            );
        }
    }

    #[test]
    fn hidden_states_writes_every_layer() {
        let dir = root().join("data/tiny-llama/tiny-d");
        let r = reference(&dir);
        let tmp = tempfile::tempdir().unwrap();
        let out_path = tmp.path().join("h.npy");
        let text = r["sequences"][1]["text"].as_str().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let out = lossy_with_cache(
            &root(),
            cache.path(),
            &[
                "hidden-states",
                "--model",
                dir.to_str().unwrap(),
                "--text",
                text,
                "--out",
                out_path.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{:?}", text_of(&out));
        let got = npy::read(&out_path).unwrap();
        let want = npy::read(&dir.join("hidden_states_1.npy")).unwrap();
        assert_eq!(got.shape, want.shape);
        let (a, b) = (got.to_f32().unwrap(), want.to_f32().unwrap());
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(diff < 1e-4, "max abs diff {diff}");
    }

    #[test]
    fn a_folder_without_weights_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::copy(
            root().join("data/tiny-llama/tiny-a/config.json"),
            tmp.path().join("config.json"),
        )
        .unwrap();
        std::fs::copy(
            root().join("data/tiny-llama/tiny-a/tokenizer.json"),
            tmp.path().join("tokenizer.json"),
        )
        .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let out = lossy_with_cache(
            &root(),
            cache.path(),
            &[
                "next-token",
                "--model",
                tmp.path().to_str().unwrap(),
                "--text",
                "hi",
            ],
        );
        let (_, stderr) = text_of(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("has no weights"), "{stderr}");
    }

    fn text_of(o: &std::process::Output) -> (String, String) {
        text(o)
    }
}

/// The paper's study names real hub models; without network `lossy plan`
/// still accepts it and says, per model, what it could not resolve.
#[test]
fn plan_accepts_the_paper_study_offline() {
    let cache = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lossy"))
        .args([
            "plan",
            "pipelines/paper-open-llm-v2.yaml",
            "--offline",
            "--json",
        ])
        .current_dir(root())
        .env("HF_HUB_CACHE", cache.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let models = plan["models"].as_array().unwrap();
    assert_eq!(models.len(), 40);
    assert_eq!(models[0]["source"], "EleutherAI/pythia-160m@main");
    assert!(
        models.iter().all(|m| m["unresolved"]
            .as_str()
            .is_some_and(|r| r.contains("not in the cache"))),
        "{stdout}"
    );
    assert!(plan["corpus_unresolved"]
        .as_str()
        .unwrap()
        .contains("allenai/c4"));
}
