//! Probe sets in a study, through the real `lossy` binary: a version-1 study
//! without them writes no probe-set column or manifest entry, and adding a
//! preference set and a named text set leaves every value of the main
//! corpus unchanged; shards carry the probe sets to the assembly; a chat
//! parquet reads as a text corpus from its string column; bad preference
//! input, an unknown probe-set column and a chat template that does not
//! render stop the run with exit 2, naming the file and row (or the study's
//! line and column), and leave no report.

use super::support::{copy_dir, lossy, lossy_with_cache, root, text};
use std::path::Path;

fn tiny_model() -> String {
    root()
        .join("data/tiny-llama/tiny-a")
        .to_string_lossy()
        .into_owned()
}

/// A one-model version-1 study on the tiny Llama fixture; `extra` is appended.
fn study(dir: &Path, extra: &str) -> String {
    let docs: String = (0..6)
        .map(|i| format!("the cat {i} sat on the mat and looked at the dog {i} again\n\n"))
        .collect();
    std::fs::write(dir.join("c.txt"), &docs).unwrap();
    std::fs::write(dir.join("c2.txt"), docs.replace("cat", "bird")).unwrap();
    let rows: String = (0..5)
        .map(|i| {
            format!(
                "{{\"prompt\": \"The dogs {i}\", \"chosen\": \" are here.\", \"rejected\": \" is here.\"}}\n"
            )
        })
        .collect();
    std::fs::write(dir.join("prefs.jsonl"), rows).unwrap();
    format!(
        "version: 1\nname: small\nmodels:\n  - path: {}\ncorpus:\n  path: c.txt\n  max_tokens: 16\nfeatures:\n  bins: 8\n  orders: [1]\n{extra}",
        tiny_model()
    )
}

fn run(dir: &Path, yaml: &str, out: &str) -> std::process::Output {
    std::fs::write(dir.join("study.yaml"), yaml).unwrap();
    lossy(dir, &["run", "study.yaml", "-q", "-o", out])
}

/// `(header, rows)` of a CSV file.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(String::from).collect());
    (lines.next().unwrap(), lines.collect())
}

#[test]
fn probe_sets_add_columns_and_leave_the_main_corpus_values_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = study(dir, "");
    let out = run(dir, &plain, "v1");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let sets = "preference:\n  path: prefs.jsonl\nprobes:\n  - name: birds\n    path: c2.txt\n    max_tokens: 16\n";
    let out = run(dir, &study(dir, sets), "with");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);

    let manifest = std::fs::read_to_string(dir.join("v1/manifest.json")).unwrap();
    assert!(
        !manifest.contains("\"probes\""),
        "a v1 manifest has no probes"
    );
    let with = std::fs::read_to_string(dir.join("with/manifest.json")).unwrap();
    assert!(with.contains("\"probes\"") && with.contains("prefs.jsonl"));
    for table in ["features.csv", "layers.csv"] {
        let (h1, r1) = csv(&dir.join("v1").join(table));
        let (h2, r2) = csv(&dir.join("with").join(table));
        assert!(
            !h1.iter()
                .any(|c| c.contains("preference") || c.ends_with("_birds")),
            "{table}: {h1:?}"
        );
        for col in ["preference", "preference_null", "optimality_birds"] {
            assert!(h2.iter().any(|c| c == col), "{table}: no `{col}` in {h2:?}");
        }
        assert_eq!(r1.len(), r2.len());
        // every main-corpus column keeps its exact text
        for (i, name) in h1.iter().enumerate() {
            let j = h2.iter().position(|c| c == name).expect("column kept");
            for (a, b) in r1.iter().zip(&r2) {
                assert_eq!(a[i], b[j], "{table}: `{name}` changed");
            }
        }
        if table == "features.csv" {
            let md = std::fs::read_to_string(dir.join("with/report.md")).unwrap();
            assert!(md.contains("## Across probe sets"), "{md}");
            assert!(
                md.contains("| optimality | `optimality` | `optimality_birds` | 1 |"),
                "{md}"
            );
            let v1 = std::fs::read_to_string(dir.join("v1/report.md")).unwrap();
            assert!(!v1.contains("Across probe sets"));
        }
        // the preference column holds numbers
        let j = h2.iter().position(|c| c == "preference").unwrap();
        for r in &r2 {
            if table == "features.csv" || r[h2.iter().position(|c| c == "layer").unwrap()] != "0" {
                assert!(r[j].parse::<f64>().unwrap().is_finite(), "{table}: {r:?}");
            }
        }
    }
}

/// `lossy assemble` of `dir`'s study from `cache`, which must exit 2: its stderr.
fn refused_assembly(dir: &Path, cache: &Path) -> String {
    let out = lossy_with_cache(dir, cache, &["assemble", "study.yaml", "-q", "-o", "again"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    stderr
}

/// `lossy shard` puts each probe set in the cache and its record, so `lossy
/// assemble` runs no model; a shard without them is missing, one over
/// other probe data stale.
#[test]
fn shards_carry_the_probe_sets_so_assembly_runs_no_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // copies of two models, whose weights are deleted before the assembly
    let models = dir.join("models");
    for m in ["tiny-a", "tiny-b"] {
        copy_dir(&root().join("data/tiny-llama").join(m), &models.join(m));
    }
    let sets = "preference:\n  path: prefs.jsonl\nprobes:\n  - name: birds\n    path: c2.txt\n    max_tokens: 16\n";
    let second = format!("  - path: {}\n", models.join("tiny-b").display());
    let yaml = study(dir, sets)
        .replace(&tiny_model(), &models.join("tiny-a").to_string_lossy())
        .replacen("corpus:", &format!("{second}corpus:"), 1);
    std::fs::write(dir.join("study.yaml"), &yaml).unwrap();
    let cache = dir.join("cluster-cache");
    for i in ["0", "1"] {
        let out = lossy_with_cache(dir, &cache, &["shard", "study.yaml", "--index", i, "-q"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    }
    let out = lossy_with_cache(
        dir,
        &dir.join("own-cache"),
        &["run", "study.yaml", "-q", "-o", "plain"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    for m in ["tiny-a", "tiny-b"] {
        std::fs::remove_file(models.join(m).join("model.safetensors")).unwrap();
    }
    let out = lossy_with_cache(
        dir,
        &cache,
        &["assemble", "study.yaml", "-q", "-o", "assembled"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    for table in ["features.csv", "layers.csv"] {
        let (a, b) = (
            dir.join("assembled").join(table),
            dir.join("plain").join(table),
        );
        let assembled = std::fs::read_to_string(a).unwrap();
        assert!(assembled.contains("preference") && assembled.contains("_birds"));
        assert!(
            assembled == std::fs::read_to_string(b).unwrap(),
            "{table} of the assembly differs from a plain run's"
        );
    }

    // A record of a lossy that did not shard probe sets: that shard is missing.
    let record_path = cache.join("shards/small/tiny-b.json");
    let saved = std::fs::read(&record_path).unwrap();
    let mut record: serde_json::Value = serde_json::from_slice(&saved).unwrap();
    record.as_object_mut().unwrap().remove("probes");
    std::fs::write(&record_path, record.to_string()).unwrap();
    let stderr = refused_assembly(dir, &cache);
    assert!(
        stderr.contains("1 of 2 shards are missing")
            && stderr.contains("1 tiny-b (probe set `preference` not in its record"),
        "{stderr}"
    );
    std::fs::write(&record_path, saved).unwrap();
    // Preference data edited after the shards ran: both are stale.
    let prefs = std::fs::read_to_string(dir.join("prefs.jsonl")).unwrap();
    std::fs::write(
        dir.join("prefs.jsonl"),
        prefs.replace("The dogs 0", "The cats 0"),
    )
    .unwrap();
    let stderr = refused_assembly(dir, &cache);
    assert!(
        stderr.contains("0 tiny-a (probe set `preference` over other data)")
            && stderr.contains("1 tiny-b (probe set `preference` over other data)"),
        "{stderr}"
    );
    assert!(
        !dir.join("again").exists(),
        "a refused assembly left a report"
    );
}

/// Each case exits 2, names the file and row (or the study line), and leaves no report.
#[test]
fn bad_probe_set_input_exits_2_naming_file_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // a tokenizer whose chat template fails on every conversation
    let bad = dir.join("bad-template");
    std::fs::create_dir_all(&bad).unwrap();
    for f in ["tokenizer.json", "model.safetensors", "config.json"] {
        std::fs::copy(Path::new(&tiny_model()).join(f), bad.join(f)).unwrap();
    }
    std::fs::write(
        bad.join("tokenizer_config.json"),
        r#"{"chat_template": "{% for m in messages %}{{ m.content.upper( }}{% endfor %}"}"#,
    )
    .unwrap();
    let good = r#"{"prompt": "a", "chosen": " b", "rejected": " c"}"#;
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "missing field",
            format!("{good}\n{{\"prompt\": \"a\", \"chosen\": \" b\"}}\n"),
            "",
            "p.jsonl:2: no field `rejected`",
        ),
        (
            "malformed line",
            format!("{good}\n\n{{\"prompt\": \"a\", \"chosen\": \n"),
            "",
            "p.jsonl:3: not a JSON object",
        ),
        (
            "empty completion",
            format!("{good}\n{{\"prompt\": \"a\", \"chosen\": \"  \", \"rejected\": \" c\"}}\n"),
            "",
            "p.jsonl:2: field `chosen` is empty",
        ),
        (
            "template does not render",
            r#"{"prompt": "a", "chosen": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "rejected": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "c"}]}"#.to_string() + "\n",
            "bad",
            "tokenizer_config.json",
        ),
        (
            "unknown probe-set column",
            format!("{good}\n"),
            "fit",
            "unknown fit feature `preference_nope`",
        ),
    ];
    for (what, rows, variant, expect) in cases {
        std::fs::write(dir.join("p.jsonl"), rows).unwrap();
        let model = if variant == "bad" {
            bad.to_string_lossy().into_owned()
        } else {
            tiny_model()
        };
        let mut yaml = format!(
            "version: 1\nmodels:\n  - path: {model}\ncorpus:\n  path: c.txt\n  max_tokens: 16\nfeatures:\n  bins: 8\n  orders: [1]\npreference:\n  path: p.jsonl\n"
        );
        if variant == "fit" {
            std::fs::write(dir.join("s.csv"), "model,acc\ntiny-a,0.5\n").unwrap();
            yaml.push_str(
                "scores:\n  csv: s.csv\nfit:\n  target: acc\n  features: [preference_nope]\n",
            );
        }
        std::fs::write(
            dir.join("c.txt"),
            "the cat sat on the mat again and again\n",
        )
        .unwrap();
        let out = run(dir, &yaml, "rep");
        let (_, stderr) = text(&out);
        eprintln!("{what}: {}", stderr.trim());
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(expect), "{what}: {stderr}");
        if variant == "fit" {
            assert!(
                stderr.contains("study.yaml:"),
                "{what}: no position: {stderr}"
            );
        }
        if what == "malformed line" {
            assert!(stderr.contains("column"), "{what}: no column: {stderr}");
        }
        let left: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".rep") || n == "rep")
            .collect();
        assert!(left.is_empty(), "{what}: leftovers {left:?}");
    }
}

/// The agreement table's ρ against scipy.stats.spearmanr on the pairwise
/// complete rows (`scripts/probe_agreement_fixtures.py`), to 1e-12; ties and
/// missing values included.
#[test]
fn agreement_across_probe_sets_matches_scipy() {
    use lossy::fit::agreement::agreement;
    use lossy::table::{Table, Values};
    let path = root().join("tests/fixtures/stats/probe_agreement.json");
    let fx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut checked = 0;
    for case in fx["cases"].as_array().unwrap() {
        let cols: Vec<Vec<f64>> = case["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let mut t = Table::default();
        let mut suffixes = Vec::new();
        for (j, c) in cols.iter().enumerate() {
            let s = if j == 0 {
                String::new()
            } else {
                format!("_p{j}")
            };
            t.push(&format!("optimality{s}"), Values::F64(c.clone()));
            suffixes.push(s);
        }
        let got = agreement(&t, &suffixes);
        let want = case["pairs"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.n as u64, w["n"].as_u64().unwrap());
            match w["spearman"].as_f64() {
                Some(rho) => assert!((g.spearman - rho).abs() < 1e-12, "{g:?} vs {rho}"),
                None => assert!(g.spearman.is_nan()),
            }
            checked += 1;
        }
    }
    assert!(checked >= 10);
}

/// The README's held-out findings for `pipelines/demo-preference.yaml` (the
/// demo fitted on `preference`), from this run's `fit.json` (rounded as the
/// README writes them).
#[test]
fn demo_preference_findings_in_the_readme() {
    use super::support::lossy_with_cache;
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("rep");
    let out = lossy_with_cache(
        &root(),
        &tmp.path().join("cache"),
        &[
            "run",
            "pipelines/demo-preference.yaml",
            "-q",
            "--offline",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let fit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("fit.json")).unwrap()).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let say = |template: &str, value: f64| {
        let want = template.replace("{}", &format!("{value:.2}").replace('-', "−"));
        assert!(
            readme.contains(&want),
            "README.md should say `{want}` ({value})"
        );
    };
    // The correlations are the demo's own (tests/integration/demo.rs); this
    // study adds the held-out comparison of `preference` with the baselines.
    let r2 = |features: &[&str]| -> f64 {
        fit["baseline_comparison"]["sets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["predictors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap())
                    .eq(features.iter().copied())
            })
            .unwrap_or_else(|| panic!("no comparison {features:?}"))["metrics"]["r2"]
            .as_f64()
            .unwrap()
    };
    say("R² {} against", r2(&["preference"]));
    say("against {} for `log_step`", r2(&["log_step"]));
    say("gives\nR² {}.", r2(&["log_step", "preference"]));
    assert!(
        r2(&["log_step"]) > r2(&["preference"]),
        "the README says the baseline wins"
    );
}

/// A preference set of chat message lists in parquet (the Tulu 3 /
/// UltraFeedback layout, `tests/fixtures/preference/chat.parquet`) gives
/// `features.csv` and `layers.csv` byte-identical to the same pairs in
/// `.jsonl`, through the real binary.
#[test]
fn a_parquet_preference_set_gives_the_tables_of_its_jsonl() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fixtures = root().join("tests/fixtures/preference");
    for f in ["chat.jsonl", "chat.parquet"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    let sets = |file: &str| format!("preference:\n  path: {file}\n  max_pairs: 30\n");
    let a = run(dir, &study(dir, &sets("chat.jsonl")), "jsonl");
    assert_eq!(a.status.code(), Some(0), "{}", text(&a).1);
    let b = run(dir, &study(dir, &sets("chat.parquet")), "parquet");
    assert_eq!(b.status.code(), Some(0), "{}", text(&b).1);
    for table in ["features.csv", "layers.csv"] {
        let (x, y) = (
            std::fs::read_to_string(dir.join("jsonl").join(table)).unwrap(),
            std::fs::read_to_string(dir.join("parquet").join(table)).unwrap(),
        );
        assert!(x.contains("preference"), "{table}: {x}");
        assert_eq!(x, y, "{table} differs between .jsonl and .parquet");
    }
    let manifest = std::fs::read_to_string(dir.join("parquet/manifest.json")).unwrap();
    assert!(manifest.contains("chat.parquet") && manifest.contains("\"pairs\": 30"));
}

/// A chat dataset's parquet (string `prompt`, message-list `chosen` and
/// `rejected`) as a text corpus: its string column reads as the same
/// documents as a `.jsonl` of them, and the message lists, which polars
/// cannot build here, are never read.
#[test]
fn a_chat_parquet_reads_as_a_text_corpus_from_its_string_column() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let fixtures = root().join("tests/fixtures/preference");
    std::fs::copy(fixtures.join("chat.parquet"), dir.join("chat.parquet")).unwrap();
    let prompts: String = std::fs::read_to_string(fixtures.join("chat.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{}\n", serde_json::json!({ "text": row["prompt"] }))
        })
        .collect();
    std::fs::write(dir.join("prompts.jsonl"), prompts).unwrap();
    let corpus = |path: &str, field: &str| {
        study(dir, "").replace(
            "corpus:\n  path: c.txt\n",
            &format!("corpus:\n  path: {path}\n{field}"),
        )
    };
    let a = run(dir, &corpus("prompts.jsonl", ""), "jsonl");
    assert_eq!(a.status.code(), Some(0), "{}", text(&a).1);
    let b = run(
        dir,
        &corpus("chat.parquet", "  text_field: prompt\n"),
        "parquet",
    );
    assert_eq!(b.status.code(), Some(0), "{}", text(&b).1);
    for table in ["features.csv", "layers.csv"] {
        let (x, y) = (
            std::fs::read(dir.join("jsonl").join(table)).unwrap(),
            std::fs::read(dir.join("parquet").join(table)).unwrap(),
        );
        assert!(x == y, "{table} differs between .jsonl and .parquet");
    }
}

/// Broken parquet preference files (`tests/fixtures/preference/bad/`,
/// written by `scripts/preference_parquet_fixtures.py`): exit 2, the file,
/// row and field named, no report left.
#[test]
fn bad_parquet_preference_input_exits_2_naming_file_row_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bad = root().join("tests/fixtures/preference/bad");
    let cases = [
        (
            "null_content.parquet",
            "null_content.parquet:2: field `chosen` must be a string or a list of {role, content} messages (message 1 has no string `role` and `content`)",
        ),
        (
            "int_content.parquet",
            "int_content.parquet:1: field `chosen` must be a string or a list of {role, content} messages (message 0 has no string `role` and `content`)",
        ),
        (
            "no_content.parquet",
            "no_content.parquet:1: field `chosen` must be a string or a list of {role, content} messages (message 0 has no string `role` and `content`)",
        ),
        (
            "binary_column.parquet",
            "binary_column.parquet: column `chosen` holds binary",
        ),
    ];
    for (file, expect) in cases {
        std::fs::copy(bad.join(file), dir.join(file)).unwrap();
        let yaml = study(dir, &format!("preference:\n  path: {file}\n"));
        let out = run(dir, &yaml, "rep");
        let (_, stderr) = text(&out);
        eprintln!("{file}: {}", stderr.trim());
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(expect), "{file}: {stderr}");
        assert!(!dir.join("rep").exists(), "{file}: a report was written");
    }
}

/// `lossy plan` sizes each probe set as the run tokenizes it: per model,
/// the sequences and tokens the run's manifest records, FLOPs 2 × params ×
/// tokens, the feature state's label counts; the model's peak is the
/// largest of its passes and its time their sum, and the totals include
/// the sets. A study without probe sets has no `probe_sets` in its plan.
#[test]
fn plan_sizes_each_probe_set_as_the_run_tokenizes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sets = "preference:\n  path: prefs.jsonl\nprobes:\n  - name: birds\n    path: c2.txt\n    max_tokens: 16\n";
    let yaml = study(dir, sets); // nulls on by default
    std::fs::write(dir.join("study.yaml"), &yaml).unwrap();
    let out = lossy(dir, &["plan", "study.yaml", "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let info = plan["probe_sets"].as_array().expect("probe_sets");
    assert_eq!(info.len(), 2);
    assert_eq!(
        (info[0]["name"].as_str(), info[0]["items"].as_u64()),
        (Some("preference"), Some(5))
    );
    assert_eq!(
        (info[1]["name"].as_str(), info[1]["items"].as_u64()),
        (Some("birds"), Some(6))
    );
    let run = self::run(dir, &yaml, "rep");
    assert_eq!(run.status.code(), Some(0), "{}", text(&run).1);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("rep/manifest.json")).unwrap())
            .unwrap();
    let m = &plan["models"][0];
    let params = m["non_embedding_params"].as_f64().unwrap();
    let gflops = plan["assumed_gflops"].as_f64().unwrap();
    let mut flops = m["flops"].as_f64().unwrap();
    let mut seconds = m["flops"].as_f64().unwrap() / (gflops * 1e9);
    let mut peak = 0;
    for (i, p) in m["probe_sets"].as_array().unwrap().iter().enumerate() {
        let ran = &manifest["probes"][i]["models"][0];
        assert_eq!(p["name"], manifest["probes"][i]["name"]);
        assert_eq!(p["sequences"], ran["sequences"], "{p}");
        assert_eq!(p["tokens"], ran["tokens"], "{p}");
        let tokens = p["tokens"].as_f64().unwrap();
        assert!(tokens > 0.0);
        assert_eq!(p["flops"].as_f64().unwrap(), 2.0 * params * tokens);
        let state = &p["feature_state"];
        assert_eq!(
            state["layers"].as_u64(),
            m["layers"].as_u64().map(|l| l + 1)
        );
        if i == 0 {
            // chosen / rejected, and the null's two labels
            let labels = state["distinct_labels"].to_string();
            assert_eq!(labels, r#"[["preference",2],["preference~null",2]]"#);
        }
        flops += p["flops"].as_f64().unwrap();
        seconds += p["seconds"].as_f64().unwrap();
        peak = peak.max(p["peak_memory_bytes"].as_u64().unwrap());
        assert!(p["peak_memory_bytes"].as_u64().unwrap() > state_total(state));
    }
    let need = &m["memory_need"];
    let main_peak = need["fixed"].as_u64().unwrap()
        + need["layers"].as_u64().unwrap() * need["per_layer"].as_u64().unwrap();
    assert_eq!(
        m["peak_memory_bytes"].as_u64().unwrap(),
        main_peak.max(peak)
    );
    assert!((m["seconds"].as_f64().unwrap() - seconds).abs() <= 1e-12 * seconds);
    assert!((plan["total_flops"].as_f64().unwrap() - flops).abs() <= 1e-9 * flops);
    // the table lists them
    let table = lossy(dir, &["plan", "study.yaml"]);
    let (stdout, _) = text(&table);
    for needle in [
        "probe sets (after the corpus",
        "preference (preference): 5 pairs",
        "birds (text): 6 documents",
        "tiny-a: 10 sequences",
    ] {
        assert!(stdout.contains(needle), "`{needle}` not in {stdout}");
    }
    // none without probe sets
    std::fs::write(dir.join("v1.yaml"), study(dir, "")).unwrap();
    let out = lossy(dir, &["plan", "v1.yaml", "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains("probe_sets"), "{stdout}");
    let table = lossy(dir, &["plan", "v1.yaml"]);
    assert!(!text(&table).0.contains("probe sets"));
}

fn state_total(s: &serde_json::Value) -> u64 {
    let n = |k: &str| s[k].as_u64().unwrap();
    n("labels_bytes") + n("layers") * (n("layer_bytes") + n("layer_interval_bytes"))
}
