//! The README's demo (`pipelines/demo.yaml`) on the trained suite in
//! `data/suite`: it runs offline, writes the full report, and its numbers come
//! from the committed files: the scores are the lm-eval result files' values,
//! and editing one result file changes the fit.

use super::support::{copy_dir, files_below, lossy, root, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The demo study beside a copy of the data it reads, so the test can edit it.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["pipelines", "data/suite", "data/corpus"] {
        copy_dir(&root().join(sub), &tmp.path().join(sub));
    }
    tmp
}

/// `suite.acc` per checkpoint folder (`data/suite/m/step512`), read from the
/// lm-eval result files with serde_json alone.
fn lm_eval_scores(dir: &Path) -> BTreeMap<String, (std::path::PathBuf, f64)> {
    let mut out = BTreeMap::new();
    for f in files_below(&dir.join("data/suite/lm-eval")) {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let args = json["config"]["model_args"].as_str().unwrap();
        let model = args
            .split(',')
            .find_map(|kv| kv.strip_prefix("pretrained="))
            .unwrap()
            .to_string();
        out.insert(
            model,
            (f, json["results"]["suite"]["acc,none"].as_f64().unwrap()),
        );
    }
    out
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

/// `s-512` → `data/suite/s/step512` and `m-shuffled-256` →
/// `data/suite/m-shuffled/step256`: the folder lm-eval recorded.
fn folder_of(model: &str) -> String {
    let (series, step) = model.rsplit_once('-').unwrap();
    format!("data/suite/{series}/step{step}")
}

/// The README's demo findings, checked against this run: `template` with `{}`
/// replaced by `value` rounded to `decimals` (a minus sign written as `−`)
/// must occur in README.md, so the README cannot drift from the code.
fn readme_says(readme: &str, template: &str, value: f64, decimals: usize) {
    let number = format!("{value:.decimals$}").replace('-', "−");
    let want = template.replace("{}", &number);
    assert!(
        readme.contains(&want),
        "README.md should say `{want}` (this run's value {value})"
    );
}

fn find<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[key] == name)
        .unwrap_or_else(|| panic!("no `{name}` in {list}"))
}

/// A model-level column of `features.csv`.
fn feature(rows: &[BTreeMap<String, String>], model: &str, column: &str) -> f64 {
    let row = rows.iter().find(|r| r["model"] == model).unwrap();
    row[column].parse().unwrap()
}

/// The numbers the README's "What this demo shows" states, from `fit.json`
/// and `features.csv` of this run.
fn check_readme_findings(report: &Path) {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let fit: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("fit.json")).unwrap()).unwrap();
    let features = csv_rows(&report.join("features.csv"));
    let say = |template: &str, value: f64, decimals: usize| {
        readme_says(&readme, template, value, decimals)
    };

    // Collapse, expansion, compression.
    say("(s: {} → ", feature(&features, "s-0", "complexity"), 2);
    say(
        " → {} by step 32)",
        feature(&features, "s-32", "complexity"),
        2,
    );
    say(
        "bound ({}, against",
        feature(&features, "l-2048", "optimality"),
        2,
    );
    say(
        "against {} and",
        feature(&features, "s-2048", "optimality"),
        2,
    );
    say(
        " and {}). The",
        feature(&features, "m-2048", "optimality"),
        2,
    );

    // Optimality against the scores.
    let corr = find(&fit["correlations"], "feature", "optimality");
    assert_eq!(corr["n"], 29);
    say(
        "Spearman ρ = {} (permutation",
        corr["spearman"].as_f64().unwrap(),
        2,
    );
    let floor = 1.0 / (fit["settings"]["permutations"].as_f64().unwrap() + 1.0);
    assert!(corr["p_value"].as_f64().unwrap() <= floor + 1e-12);
    assert!(readme.contains("(permutation p ≤ 0.001)"));
    say("with R² = {}", fit["metrics"]["r2"].as_f64().unwrap(), 2);
    say("and MAE {}, ", fit["metrics"]["mae"].as_f64().unwrap(), 3);
    say(
        "intercept alone (R² = {};",
        fit["baseline"]["r2"].as_f64().unwrap(),
        2,
    );
    let log_params = fit["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["features"] == serde_json::json!(["log_params"]))
        .unwrap();
    say(
        "parameters: R² = {})",
        log_params["metrics"]["r2"].as_f64().unwrap(),
        2,
    );

    // A baseline wins: log_step against optimality under the same folds.
    let bc = &fit["baseline_comparison"];
    let set_r2 = |label: &str| {
        find(&bc["sets"], "label", label)["metrics"]["r2"]
            .as_f64()
            .unwrap()
    };
    let set_mae = |label: &str| {
        find(&bc["sets"], "label", label)["metrics"]["mae"]
            .as_f64()
            .unwrap()
    };
    say(
        "alone predicts `suite.acc` with R² = {} (MAE",
        set_r2("log_step"),
        2,
    );
    say("(MAE {}; bits per byte", set_mae("log_step"), 3);
    say(
        "bits per byte:\n  R² = {}), better",
        set_r2("bits_per_byte"),
        2,
    );
    assert!(
        set_r2("log_step") > set_r2("features"),
        "optimality alone is the `features` set"
    );
    let gain = &bc["gain"];
    assert_eq!(gain["baseline"], "log_step");
    say("worse (R² {} → ", gain["r2_baseline"].as_f64().unwrap(), 2);
    say(" → {}): per", gain["r2_with_features"].as_f64().unwrap(), 2);
    let red = &gain["abs_error_reduction"];
    say("grows by {} on average", -red["mean"].as_f64().unwrap(), 4);
    say("interval {} to", -red["upper"].as_f64().unwrap(), 4);
    say(" to {},\n  sign-flip", -red["lower"].as_f64().unwrap(), 4);
    say("sign-flip p = {}).", gain["p_value"].as_f64().unwrap(), 3);
    let rho_w = |f: &str| {
        find(&fit["within_family"], "feature", f)["pooled"]["spearman"]
            .as_f64()
            .unwrap()
    };
    say("step\n  ρ_w = {}, bits", rho_w("log_step"), 2);
    say(
        "bits per byte ρ_w = {}, optimality",
        rho_w("bits_per_byte"),
        2,
    );
    say("optimality ρ_w = {}).", rho_w("optimality"), 2);

    // The four m checkpoints at step 1024: withheld scores, and optimality's order.
    let ranking = &fit["ranking"];
    let actual = |m: &str| find(ranking, "model", m)["actual"].as_f64().unwrap();
    say("are clean {},", actual("m-1024"), 2);
    say("shuffled {},", actual("m-shuffled-1024"), 2);
    say("agreement noise {},", actual("m-agreement-noise-1024"), 2);
    say("no clauses {}; ", actual("m-no-clauses-1024"), 2);
    let same_step: Vec<&str> = ranking
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .filter(|m| m.starts_with("m-") && m.ends_with("-1024"))
        .collect();
    assert_eq!(same_step[..2], ["m-agreement-noise-1024", "m-1024"]);
    assert!(readme.contains("optimality puts agreement noise\n  first and the clean run second"));
    let withheld = &fit["withheld"];
    say(
        "Spearman ρ = {} with the withheld",
        withheld["spearman"].as_f64().unwrap(),
        2,
    );
    let (covered, n) = (&withheld["covered"], &withheld["n"]);
    assert!(readme.contains(&format!("{covered} of {n} fall inside the 80%")));

    // Preference information, measured beside optimality (README: "In the demo").
    let pref = find(&fit["correlations"], "feature", "preference");
    assert_eq!(pref["n"], 29);
    say("ρ = {} (p = ", pref["spearman"].as_f64().unwrap(), 2);
    say("(p = {}), its", pref["p_value"].as_f64().unwrap(), 2);
    let null = find(&fit["correlations"], "feature", "preference_null");
    say("null's ρ = {}, and", null["spearman"].as_f64().unwrap(), 2);
    let within = find(&fit["within_family"], "feature", "preference");
    say(
        "families ρ_w = {}.",
        within["pooled"]["spearman"].as_f64().unwrap(),
        2,
    );
    // Tiny values keep three significant digits in report.md's per-family ranges.
    let suite_s: Vec<f64> = features
        .iter()
        .filter(|r| r["family"] == "suite-s")
        .map(|r| r["preference"].parse::<f64>().unwrap())
        .collect();
    let (lo, hi) = suite_s
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    assert!(lo.abs() < 1e-3 && hi.abs() < 1e-3, "{lo} {hi}");
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("preference (min–max)"), "{md}");
    assert!(md.contains(&format!("| {lo:.2e}–{hi:.2e} |")), "{md}");
}

#[test]
fn the_demo_reports_the_suite_and_its_numbers_come_from_the_files() {
    let ws = workspace();
    let out = lossy(ws.path(), &["run", "pipelines/demo.yaml", "--quiet"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    let report = ws.path().join("reports/demo");
    let scores = lm_eval_scores(ws.path());
    assert_eq!(scores.len(), 36, "one lm-eval result file per checkpoint");

    // Every scored, released checkpoint is in the fit with the score its result file holds.
    let predictions = csv_rows(&report.join("predictions.csv"));
    assert_eq!(predictions.len(), 29, "36 checkpoints, 7 withheld");
    for row in &predictions {
        let (_, want) = scores[&folder_of(&row["model"])];
        assert_eq!(
            row["actual"].parse::<f64>().unwrap(),
            want,
            "{}",
            row["model"]
        );
    }
    // The four unreleased checkpoints are ranked, each beside its withheld score.
    let ranking = csv_rows(&report.join("ranking.csv"));
    let mut ranked: Vec<&str> = ranking.iter().map(|r| r["model"].as_str()).collect();
    ranked.sort();
    assert_eq!(
        ranked,
        [
            "l-1024",
            "l-128",
            "m-1024",
            "m-agreement-noise-1024",
            "m-no-clauses-1024",
            "m-shuffled-1024",
            "s-256"
        ]
    );
    for row in &ranking {
        assert_eq!(
            row["withheld"].parse::<f64>().unwrap(),
            scores[&folder_of(&row["model"])].1
        );
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains("Against the scores withheld from the fit"),
        "{md}"
    );
    // A checkpoint study's report opens with a summary whose numbers are fit.json's, and
    // summarises its 36-row features table per family (issue #18).
    let fit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("fit.json")).unwrap()).unwrap();
    let answer = format!(
        "**Answer.** Held out, the fit reaches R² = {:.2} and MAE = {:.3} over 29 models",
        fit["metrics"]["r2"].as_f64().unwrap(),
        fit["metrics"]["mae"].as_f64().unwrap()
    );
    assert!(md.contains(&answer), "{answer} not in\n{md}");
    let summary = md.find("## Summary").expect("a summary");
    assert!(summary < md.find("## Features").expect("features"));
    assert!(md.contains("36 models, more than 30: one row per family"));
    assert!(md.contains("| suite-m-no-clauses | 3 |"), "{md}");
    for stem in [
        "information_plane",
        "information_plane_layers",
        "trajectory",
        "layer_profiles",
        "scores_vs_optimality",
        "predicted_vs_actual",
        "ranking",
        "correlations",
    ] {
        assert!(
            report.join("figures").join(format!("{stem}.png")).is_file(),
            "missing {stem}"
        );
    }
    let fit: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("fit.json")).unwrap()).unwrap();
    assert_eq!(fit["folds"], 6, "leave one series (3 sizes, 3 recipes) out");
    check_readme_findings(&report);

    // Edit one checkpoint's score in its result file: the refit (same features,
    // no model run) sees the new score and its coefficients change.
    let file = &scores["data/suite/l/step2048"].0;
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    json["results"]["suite"]["acc,none"] = 0.05.into();
    std::fs::write(file, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = lossy(
        ws.path(),
        &[
            "run",
            "pipelines/demo.yaml",
            "--quiet",
            "--features",
            "reports/demo/features.parquet",
            "--output",
            "edited",
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let refit: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("edited/fit.json")).unwrap())
            .unwrap();
    let l2048 = csv_rows(&ws.path().join("edited/predictions.csv"))
        .into_iter()
        .find(|r| r["model"] == "l-2048")
        .unwrap();
    assert_eq!(l2048["actual"].parse::<f64>().unwrap(), 0.05);
    assert_ne!(
        refit["coefficients"], fit["coefficients"],
        "the fit did not change with the score file"
    );
}
