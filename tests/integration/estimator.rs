//! Parity with the reference estimator (`soft-entropy` 0.1.5, numpy backend)
//! on fixtures made by `scripts/estimator_fixtures.py`: ε to 1e-9 relative,
//! every H and I to 1e-6 absolute given the same W.

use super::support::{fixtures, unit};
use lossy::features::estimator::calibration::{epsilon, Calibration};
use lossy::features::estimator::labels::LabelColumn;
use lossy::features::estimator::{Accumulator, Estimator, WSource};
use lossy::io::npy;
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    fixtures().join("estimator")
}

fn load_json(name: &str) -> Value {
    let text = std::fs::read_to_string(dir().join(name))
        .unwrap_or_else(|e| panic!("fixture {name}: {e} (run scripts/estimator_fixtures.py)"));
    serde_json::from_str(&text).unwrap()
}

fn ints(file: &str) -> (Vec<i64>, Vec<usize>) {
    let a = npy::read(&dir().join(file)).unwrap();
    (a.as_ints().expect("int array").to_vec(), a.shape)
}

fn f32s(file: &str) -> (Vec<f32>, Vec<usize>) {
    let a = npy::read(&dir().join(file)).unwrap();
    (a.to_f32().expect("float array"), a.shape)
}

/// Z (N × d) from the fixture recipe: exact in f64, rounded once to f32.
fn recipe_z(recipe: &Value, tok: Option<&[i64]>) -> Vec<f32> {
    let kind = recipe["kind"].as_str().unwrap();
    let stream = recipe["stream"].as_u64().unwrap();
    let (n, d) = (
        recipe["N"].as_u64().unwrap() as usize,
        recipe["d"].as_u64().unwrap() as usize,
    );
    let mut z = Vec::with_capacity(n * d);
    for i in 0..n {
        for j in 0..d {
            let k = (i * d + j) as u64;
            let v = match kind {
                "isotropic" => unit(stream, k) - 0.5,
                "anisotropic" => {
                    (unit(stream, k) - 0.5) * (1 + j % 7) as f64
                        + if j % 3 == 0 { 0.25 } else { 0.0 }
                }
                "token" | "token_pure" => {
                    let t = tok.expect("token stream")[i] as u64;
                    let base = unit(stream, t * d as u64 + j as u64) - 0.5;
                    if kind == "token" {
                        base + 0.125 * (unit(stream ^ 0xABCDEF, k) - 0.5)
                    } else {
                        base
                    }
                }
                other => panic!("unknown recipe kind {other}"),
            };
            z.push(v as f32);
        }
    }
    z
}

/// W (m × d): from .npy, or from the recipe, normalised in f32.
fn fixture_w(case: &Value, m: usize, d: usize) -> Vec<f32> {
    let w = &case["w"];
    match w["source"].as_str().unwrap() {
        "npy" | "literal" => f32s(w["file"].as_str().unwrap()).0,
        "recipe" => {
            let stream = w["stream_w"].as_u64().unwrap();
            let mut out = Vec::with_capacity(m * d);
            for j in 0..m {
                let row: Vec<f32> = (0..d)
                    .map(|c| (unit(stream, (j * d + c) as u64) - 0.5) as f32)
                    .collect();
                let norm = row.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt() as f32;
                out.extend(row.iter().map(|x| x / norm));
            }
            out
        }
        other => panic!("unknown W source {other}"),
    }
}

struct Outcome {
    entropy: f64,
    mi: Vec<(String, f64)>,
}

fn run_case(name: &str) -> (Value, Outcome) {
    let case = load_json(name);
    let m = case["m"].as_u64().unwrap() as usize;
    let (z, d) = if let Some(zf) = case["files"]["z"].as_str() {
        let (z, shape) = f32s(zf);
        (z, shape[1])
    } else {
        let tok = case["files"]["tok"].as_str().map(|f| ints(f).0);
        let d = case["recipe"]["d"].as_u64().unwrap() as usize;
        (recipe_z(&case["recipe"], tok.as_deref()), d)
    };
    let (start, end) = (
        case["positions"]["start"].as_u64().unwrap() as usize,
        case["positions"]["end"].as_u64().unwrap() as usize,
    );
    let z = &z[start * d..(end + 1) * d];
    let rows = end + 1 - start;
    let w = fixture_w(&case, m, d);
    let eps = case["epsilon"]["used"].as_f64().unwrap();
    let est = Estimator::from_parts(
        w,
        m,
        d,
        eps,
        WSource::Generated {
            algorithm: "fixture".into(),
            seed: 0,
        },
    );
    let mut cols = Vec::new();
    let labels = case["files"]["labels"].as_object().unwrap();
    for (set, spec) in labels {
        let (values, shape) = ints(spec["file"].as_str().unwrap());
        let width = if shape.len() == 2 { shape[1] } else { 1 };
        let (lo, hi) = match spec["columns"].as_array() {
            Some(c) => (
                c[0].as_u64().unwrap() as usize,
                c[1].as_u64().unwrap() as usize,
            ),
            None => (0, 1),
        };
        assert_eq!(values.len() / width, rows, "{name}/{set}: label rows");
        cols.push(LabelColumn::from_keys(
            set,
            values.chunks(width).map(|r| Some(r[lo..hi].to_vec())),
        ));
    }
    let specs: Vec<_> = cols.iter().map(LabelColumn::spec).collect();
    let mut acc = Accumulator::new(&est, &specs);
    // Three uneven batches: splits must not matter.
    let cuts = [0, rows / 3, rows / 3 + 7.min(rows - rows / 3), rows];
    for win in cuts.windows(2) {
        let (a, b) = (win[0], win[1]);
        let ids: Vec<&[u32]> = cols.iter().map(|c| &c.ids[a..b]).collect();
        acc.update(&z[a * d..b * d], &ids).unwrap();
    }
    let e = acc.estimate();
    let mi = e
        .sets
        .iter()
        .map(|s| (s.name.clone(), s.mutual_information))
        .collect();
    (
        case,
        Outcome {
            entropy: e.entropy,
            mi,
        },
    )
}

/// Every case: H and each I within 1e-6 of the reference as shipped (f32),
/// except where the reference's own f32 error is near that size; those are
/// held to the f64 evaluation of the reference's maths instead.
#[test]
fn matches_the_reference_on_every_fixture() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("case_") && n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 20,
        "expected the full fixture grid, found {}",
        names.len()
    );
    let mut worst = (0.0f64, String::new());
    for name in &names {
        let (case, got) = run_case(name);
        let f32_noise = case["f32_vs_f64"]["max_abs_diff_h_and_mi"]
            .as_f64()
            .unwrap_or(0.0);
        let reference = if f32_noise > 5e-7 {
            &case["reference_f64"]
        } else {
            &case["reference_f32"]
        };
        let mut check = |what: &str, got: f64, want: f64| {
            let diff = (got - want).abs();
            if diff > worst.0 {
                worst = (diff, format!("{name} {what}"));
            }
            assert!(
                diff <= 1e-6,
                "{name} {what}: lossy {got} vs reference {want} (diff {diff:.2e})"
            );
        };
        check("H(Z)", got.entropy, reference["entropy"].as_f64().unwrap());
        for (set, mi) in &got.mi {
            check(
                &format!("I({set})"),
                *mi,
                reference["mutual_information"][set].as_f64().unwrap(),
            );
        }
    }
    eprintln!(
        "largest difference from the reference: {:.2e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn temperature_matches_the_reference_calibration() {
    let cal = load_json("calibration.json");
    let mut checked = 0;
    let mut walk = |v: &Value| {
        // Entries carry d, m and the reference's value under some rule.
        if let (Some(d), Some(m)) = (
            v.get("d").and_then(Value::as_u64),
            v.get("m").and_then(Value::as_u64),
        ) {
            for (key, rule) in [
                ("find_eps", Calibration::FindEps),
                ("exact", Calibration::Exact),
                ("leading_order", Calibration::LeadingOrder),
            ] {
                if let Some(want) = v.get(key).and_then(Value::as_f64) {
                    let got = epsilon(rule, m as usize, d as usize).unwrap();
                    assert!(
                        (got - want).abs() <= 1e-9 * want,
                        "{key} d={d} m={m}: {got} vs {want}"
                    );
                    checked += 1;
                }
            }
        }
    };
    fn visit(v: &Value, f: &mut dyn FnMut(&Value)) {
        f(v);
        match v {
            Value::Array(a) => a.iter().for_each(|x| visit(x, f)),
            Value::Object(o) => o.values().for_each(|x| visit(x, f)),
            _ => {}
        }
    }
    visit(&cal, &mut walk);
    assert!(
        checked >= 30,
        "only {checked} calibration values found in calibration.json"
    );
}

/// method.md §5 through the reference's own numbers for it.
#[test]
fn hand_vector_matches_the_reference() {
    let (case, got) = run_case("case_hand_d3_m4.json");
    let r = &case["reference_f32"];
    assert!((got.entropy - r["entropy"].as_f64().unwrap()).abs() < 1e-6);
    assert!((got.mi[0].1 - r["mutual_information"]["labels"].as_f64().unwrap()).abs() < 1e-6);
}
