//! The figures' layout rules (`figures::layout_check`) on every figure a study produces:
//! the demo and the random-fixtures study (their feature tables, committed under
//! `tests/fixtures/figures/`, are fitted again and every figure is drawn in memory; no model
//! runs), and a synthetic study with many models, long names, many benchmarks and two
//! preference sets, and its one-model and one-benchmark edge cases; each in the `paper`
//! and `slides` styles at `single` and `double` width.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{run, Progress, RunOptions};
use crate::figures::layout_check::{collect, violations};
use crate::figures::{ColumnWidth, FigureStyle};
use crate::study::Study;

struct Silent;
impl Progress for Silent {
    fn line(&mut self, _: &str) {}
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Draws every figure of `study` (fitted on `features`) in both styles and widths, and
/// returns the broken rules, one line each, and the names of the figures checked.
fn check(mut study: Study, features: &Path) -> (Vec<String>, Vec<String>) {
    // For looking at them: LOSSY_FIGURE_DIR=/some/dir keeps every figure's PNG.
    let keep = std::env::var_os("LOSSY_FIGURE_DIR").map(PathBuf::from);
    study.figures.formats = match keep {
        Some(_) => vec![crate::figures::FigureFormat::Png],
        None => vec![],
    };
    study.figures.include = None;
    let mut broken = Vec::new();
    let mut seen = Vec::new();
    for style in [FigureStyle::Paper, FigureStyle::Slides] {
        for width in [ColumnWidth::Single, ColumnWidth::Double] {
            study.figures.style = style;
            study.figures.width = width;
            let out = tempfile::tempdir().expect("temp dir");
            let report = match &keep {
                Some(k) => k.join(format!("{}-{style:?}-{width:?}", study.name)),
                None => out.path().join("report"),
            };
            let options = RunOptions {
                offline: true,
                feature_cache: None,
                features_from: Some(features.to_path_buf()),
                from_shards: false,
            };
            let layouts = collect(|| {
                run(&study, &report, &options, &mut Silent)
                    .unwrap_or_else(|e| panic!("{}: {e:#}", study.name));
            });
            assert!(!layouts.is_empty(), "{}: no figure drawn", study.name);
            for l in &layouts {
                seen.push(l.name.clone());
                for v in violations(l) {
                    broken.push(format!(
                        "{} {style:?} {width:?} {}: {v}",
                        study.name, l.name
                    ));
                }
            }
        }
    }
    (broken, seen)
}

fn assert_clean(broken: &[String]) {
    // A count per figure first (the first four words name it), then the first rules broken.
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for b in broken {
        let key: Vec<&str> = b.split(' ').take(4).collect();
        *counts.entry(key.join(" ")).or_default() += 1;
    }
    let mut msg = String::new();
    for (k, n) in &counts {
        let _ = writeln!(msg, "{n:5} {k}");
    }
    for b in broken.iter().take(40) {
        let _ = writeln!(msg, "{b}");
    }
    assert!(broken.is_empty(), "{} broken rules:\n{msg}", broken.len());
}

#[test]
fn demo_figures_keep_the_layout_rules() {
    let study = crate::study::load(&root().join("pipelines/demo.yaml")).expect("demo study");
    let (broken, seen) = check(
        study,
        &root().join("tests/fixtures/figures/demo/features.csv"),
    );
    for name in [
        "information_plane",
        "information_plane_layers",
        "trajectory",
        "layer_profiles",
        "scores_vs_optimality",
        "predicted_vs_actual",
        "ranking",
        "correlations",
    ] {
        assert_eq!(
            seen.iter().filter(|s| *s == name).count(),
            4,
            "{name} in {seen:?}"
        );
    }
    assert_clean(&broken);
}

#[test]
fn random_fixture_figures_keep_the_layout_rules() {
    let study = crate::study::load(&root().join("pipelines/random-fixtures.yaml")).expect("study");
    let (broken, seen) = check(
        study,
        &root().join("tests/fixtures/figures/random-fixtures/features.csv"),
    );
    assert!(seen.iter().any(|s| s == "ranking") && seen.iter().any(|s| s == "correlations"));
    assert_clean(&broken);
}

/// Model `i`'s long name in the synthetic study.
fn synthetic_name(i: usize, families: usize) -> String {
    format!(
        "organisation-{}/a-rather-long-model-name-{i}-instruct",
        i % families
    )
}

fn synthetic_benchmark(b: usize) -> String {
    format!("benchmark_with_a_long_name_{b}.acc_norm")
}

/// A study file with `models` models (in `families` families, long names) and `benchmarks`
/// scores, a preference set and a named one (`_tulu`), and its feature, layer and score
/// tables, written under `dir`.
fn synthetic(dir: &Path, models: usize, families: usize, benchmarks: usize) -> (Study, PathBuf) {
    let yaml = synthetic_yaml(dir, models, families, benchmarks);
    synthetic_tables(dir, models, families, benchmarks);
    let file = dir.join("study.yaml");
    std::fs::write(&file, yaml).unwrap();
    let study = crate::study::load(&file).unwrap_or_else(|e| panic!("synthetic study: {e:#}"));
    (study, dir.join("features.csv"))
}

/// The synthetic study file (its model folders, corpus and preference pairs written
/// under `dir`).
fn synthetic_yaml(dir: &Path, models: usize, families: usize, benchmarks: usize) -> String {
    let mut yaml = format!("version: 1\nname: synthetic-{models}m-{benchmarks}b\nmodels:\n");
    for i in 0..models {
        let path = dir.join(format!("m{i}"));
        std::fs::create_dir_all(&path).unwrap();
        for f in ["config.json", "tokenizer.json"] {
            std::fs::write(path.join(f), "{}").unwrap();
        }
        let unreleased = models > 3 && i % 7 == 3;
        let _ = writeln!(
            yaml,
            "  - {{ name: \"{}\", path: \"{}\", family: fam-{}-with-a-long-family-name, step: {}{} }}",
            synthetic_name(i, families),
            path.display(),
            i % families,
            100 * (i / families + 1),
            if unreleased { ", unreleased: true" } else { "" }
        );
    }
    let corpus = dir.join("c.txt");
    std::fs::write(&corpus, "a b c\n").unwrap();
    let pairs = dir.join("pairs.jsonl");
    std::fs::write(
        &pairs,
        "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n",
    )
    .unwrap();
    let _ = write!(
        yaml,
        "corpus: {{ path: \"{}\" }}\nfeatures: {{ orders: [1, 2] }}\nscores: {{ csv: \"{}\", model_column: model }}\n",
        corpus.display(),
        dir.join("scores.csv").display(),
    );
    let _ = write!(
        yaml,
        "preference: {{ path: \"{0}\" }}\nprobes:\n  - {{ name: tulu, kind: preference, path: \"{0}\" }}\n",
        pairs.display()
    );
    if models >= 4 {
        let _ = writeln!(
            yaml,
            "fit: {{ target: \"{}\", features: [optimality], permutations: 99 }}",
            synthetic_benchmark(0)
        );
    }
    yaml
}

/// Features, layers and scores of the synthetic study: smooth functions of the model
/// index, different per family; preference values as small as real ones (10⁻⁶ to 10⁻⁴).
fn synthetic_tables(dir: &Path, models: usize, families: usize, benchmarks: usize) {
    let v = |i: usize, k: f64| 0.3 + 0.4 * ((i as f64 * 0.37 + k).sin() * 0.5 + 0.5);
    let pref = |i: usize, k: f64| 1e-4 * v(i, k) * v(i, k + 0.5).powi(6);
    let prefs = "preference,preference_null,preference_tulu,preference_null_tulu";
    let mut f = format!("model,family,layers,d,params,log_params,entropy,complexity,expressivity,optimality,complexity_2,expressivity_2,optimality_2,{prefs}\n");
    let mut l = format!("model,layer,depth,entropy,complexity,expressivity,optimality,complexity_2,expressivity_2,optimality_2,{prefs}\n");
    let mut s = String::from("model");
    for b in 0..benchmarks {
        let _ = write!(s, ",{}", synthetic_benchmark(b));
    }
    s.push('\n');
    for i in 0..models {
        let name = synthetic_name(i, families);
        let (c, e) = (v(i, 0.0), v(i, 1.0) * 0.6);
        let params = 1e6 * (1 + i % 5) as f64;
        let _ = writeln!(
            f,
            "{name},fam-{}-with-a-long-family-name,4,64,{params},{},{},{c},{e},{},{},{},{},{},{},{},{}",
            i % families,
            params.log10(),
            v(i, 2.0),
            e / c,
            c * 0.9,
            e * 0.8,
            e * 0.8 / (c * 0.9),
            pref(i, 3.0),
            pref(i, 4.0) * 0.1,
            pref(i, 5.0),
            pref(i, 6.0) * 0.1
        );
        for layer in 0..5 {
            let t = layer as f64 / 4.0;
            let _ = writeln!(
                l,
                "{name},{layer},{t},{},{},{},{},{},{},{},{},{},{},{}",
                v(i + layer, 2.0),
                c * (1.0 - 0.2 * t),
                e * (0.5 + 0.5 * t),
                e / c,
                c * 0.9,
                e * 0.7,
                0.7 * e / (0.9 * c),
                pref(i + layer, 3.0),
                pref(i + layer, 4.0) * 0.1,
                pref(i + layer, 5.0),
                pref(i + layer, 6.0) * 0.1
            );
        }
        let _ = write!(s, "{name}");
        for b in 0..benchmarks {
            let _ = write!(
                s,
                ",{:.4}",
                0.2 + 0.6 * e / c + 0.05 * ((i * (b + 1)) as f64).sin()
            );
        }
        s.push('\n');
    }
    std::fs::write(dir.join("features.csv"), f).unwrap();
    std::fs::write(dir.join("layers.csv"), l).unwrap();
    std::fs::write(dir.join("scores.csv"), s).unwrap();
}

#[test]
fn many_models_long_names_and_many_benchmarks_keep_the_layout_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (study, features) = synthetic(dir.path(), 34, 6, 9);
    let (broken, seen) = check(study, &features);
    assert!(seen.iter().any(|s| s == "correlations") && seen.iter().any(|s| s == "ranking"));
    assert_clean(&broken);
}

#[test]
fn one_benchmark_and_few_models_keep_the_layout_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (study, features) = synthetic(dir.path(), 5, 2, 1);
    let (broken, seen) = check(study, &features);
    assert!(seen.iter().any(|s| s == "scores_vs_optimality"));
    assert_clean(&broken);
}

#[test]
fn one_model_keeps_the_layout_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (study, features) = synthetic(dir.path(), 1, 1, 2);
    let (broken, seen) = check(study, &features);
    assert!(seen.iter().any(|s| s == "information_plane"));
    assert_clean(&broken);
}
