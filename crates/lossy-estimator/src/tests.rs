//! Unit tests of the estimator's maths and invariances. Parity with the
//! reference implementation is tested in `tests/integration/estimator.rs`.

use super::labels::LabelColumn;
use super::reference_points::{generate, Normals};
use super::*;
use lossy_base::math::rng::SplitMix64;

fn w_source() -> WSource {
    WSource::Generated {
        algorithm: "test".into(),
        seed: 0,
    }
}

fn normalise_rows(rows: &[[f32; 3]]) -> Vec<f32> {
    rows.iter()
        .flat_map(|r| {
            let n = r.iter().map(|x| x * x).sum::<f32>().sqrt();
            r.map(|x| x / n)
        })
        .collect()
}

/// method.md §5: a hand-checkable vector (d = 3, m = 4, ε = 0.5).
#[test]
fn hand_checkable_vector() {
    let w = normalise_rows(&[[1., 0., 0.], [0., 1., 0.], [0., 0., 1.], [-1., -1., -1.]]);
    let est = Estimator::from_parts(w, 4, 3, 0.5, w_source());
    let z: Vec<f32> = [
        [1., 0.1, 0.],
        [0.9, 0.2, 0.1],
        [0., 1., 0.2],
        [0.1, 0.8, 0.3],
        [0., 0., 1.],
        [-1., -0.5, -0.2],
    ]
    .concat();
    let labels = LabelColumn::from_keys("x", [0, 0, 1, 1, 2, 2].map(Some));
    // No singleton shortcut here: every label has two rows.
    let mut acc = Accumulator::new(&est, &[labels.spec()]);
    acc.update(&z, &[&labels.ids]).unwrap();
    let e = acc.estimate();
    let close = |a: f64, b: f64| (a - b).abs() < 5e-7;
    assert!(close(e.entropy, 0.978485), "H = {}", e.entropy);
    let s = &e.sets[0];
    assert!(
        close(s.mutual_information, 0.291398),
        "I = {}",
        s.mutual_information
    );
    assert!(
        close(s.regularity, 0.297806),
        "regularity = {}",
        s.regularity
    );
    let cond = (0.613406 + 0.649519 + 0.798334) / 3.0;
    assert!(close(s.conditional_entropy, cond));
    let p = est.project(&z, |_| false).unwrap();
    let totals: Vec<f64> = (0..4)
        .map(|j| (0..6).map(|r| p.p[r * 4 + j]).sum::<f64>() / 6.0)
        .collect();
    for (got, want) in totals.iter().zip([0.300126, 0.302138, 0.240451, 0.157286]) {
        assert!(close(*got, want), "P = {totals:?}");
    }
}

/// Random data in R^d, a Zipf-ish token stream, and n-gram-like labels.
fn random_case(rows: usize, d: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut g = Normals::new(seed);
    let z = (0..rows * d).map(|_| g.next() as f32).collect();
    let mut r = SplitMix64::new(seed ^ 99);
    let toks = (0..rows)
        .map(|_| ((r.unit().powi(3)) * 30.0) as u32)
        .collect();
    (z, toks)
}

fn estimate(est: &Estimator, z: &[f32], cols: &[LabelColumn], batch: usize) -> Estimate {
    let specs: Vec<_> = cols.iter().map(LabelColumn::spec).collect();
    let mut acc = Accumulator::new(est, &specs);
    let rows = z.len() / est.d;
    let mut start = 0;
    while start < rows {
        let end = (start + batch).min(rows);
        let ids: Vec<&[u32]> = cols.iter().map(|c| &c.ids[start..end]).collect();
        acc.update(&z[start * est.d..end * est.d], &ids).unwrap();
        start = end;
    }
    acc.estimate()
}

fn assert_estimates_close(a: &Estimate, b: &Estimate, tol: f64) {
    assert!(
        (a.entropy - b.entropy).abs() < tol,
        "{} vs {}",
        a.entropy,
        b.entropy
    );
    for (x, y) in a.sets.iter().zip(&b.sets) {
        assert!(
            (x.mutual_information - y.mutual_information).abs() < tol,
            "{x:?} vs {y:?}"
        );
        assert!((x.entropy - y.entropy).abs() < tol);
    }
}

#[test]
fn batch_splits_do_not_change_results() {
    let d = 16;
    let (z, toks) = random_case(500, d, 1);
    let est = Estimator::new(
        &EstimatorParams {
            bins: 20,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let cols = vec![
        LabelColumn::from_keys("tok", toks.iter().map(|&t| Some(t))),
        LabelColumn::from_keys(
            "pair",
            toks.windows(2).map(|w| Some((w[0], w[1]))).chain([None]),
        ),
    ];
    let whole = estimate(&est, &z, &cols, 500);
    for batch in [1, 7, 64, 499] {
        assert_eq!(whole, estimate(&est, &z, &cols, batch), "batch {batch}");
    }
}

#[test]
fn row_permutation_and_positive_scaling_leave_results_unchanged() {
    let d = 12;
    let (z, toks) = random_case(300, d, 2);
    let est = Estimator::new(
        &EstimatorParams {
            bins: 16,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let base = estimate(
        &est,
        &z,
        &[LabelColumn::from_keys("t", toks.iter().map(|&t| Some(t)))],
        50,
    );
    // reverse the rows and scale each by a different positive factor (powers of two: exact)
    let mut z2 = Vec::new();
    let mut t2 = Vec::new();
    for r in (0..300).rev() {
        let s = [0.25f32, 1.0, 8.0][r % 3];
        z2.extend(z[r * d..(r + 1) * d].iter().map(|x| x * s));
        t2.push(toks[r]);
    }
    let other = estimate(
        &est,
        &z2,
        &[LabelColumn::from_keys("t", t2.iter().map(|&t| Some(t)))],
        50,
    );
    assert_estimates_close(&base, &other, 1e-10);
}

#[test]
fn relabelling_leaves_mi_unchanged() {
    let d = 8;
    let (z, toks) = random_case(400, d, 3);
    let est = Estimator::new(
        &EstimatorParams {
            bins: 10,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let a = estimate(
        &est,
        &z,
        &[LabelColumn::from_keys("t", toks.iter().map(|&t| Some(t)))],
        400,
    );
    let b = estimate(
        &est,
        &z,
        &[LabelColumn::from_keys(
            "t",
            toks.iter().map(|&t| Some(1000 - 7 * t as i64)),
        )],
        400,
    );
    assert_estimates_close(&a, &b, 1e-12);
}

#[test]
fn singleton_shortcut_equals_explicit_vectors() {
    let d = 8;
    let (z, _) = random_case(200, d, 4);
    let est = Estimator::new(
        &EstimatorParams {
            bins: 10,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    // every row its own label, plus some repeated ones
    let col = LabelColumn::from_keys(
        "u",
        (0..200u32).map(|r| Some(if r % 5 == 0 { 0 } else { r })),
    );
    let with_counts = estimate(&est, &z, std::slice::from_ref(&col), 33);
    let mut acc = Accumulator::new(
        &est,
        &[LabelSpec {
            name: "u".into(),
            n_ids: col.n_ids(),
            counts: None,
        }],
    );
    acc.update(&z, &[&col.ids]).unwrap();
    let without = acc.estimate();
    assert_estimates_close(&with_counts, &without, 1e-10);
    assert_eq!(with_counts.sets[0].distinct, without.sets[0].distinct);
    assert_eq!(with_counts.sets[0].distinct, col.n_ids());
}

#[test]
fn random_labels_give_mi_near_the_shuffled_null() {
    let d = 32;
    let (z, toks) = random_case(4000, d, 5);
    let est = Estimator::new(
        &EstimatorParams {
            bins: 50,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let col = LabelColumn::from_keys("t", toks.iter().map(|&t| Some(t)));
    let null = col.shuffled(1);
    let e = estimate(&est, &z, &[col, null], 1000);
    let (mi, null_mi) = (e.sets[0].mutual_information, e.sets[1].mutual_information);
    assert!(
        mi > 0.0 && null_mi > 0.0,
        "bias makes both positive: {mi} {null_mi}"
    );
    assert!(
        (mi - null_mi).abs() < 0.25 * null_mi.max(mi),
        "labels independent of Z: {mi} vs null {null_mi}"
    );
}

#[test]
fn informative_labels_beat_the_null() {
    let d = 32;
    let (mut z, toks) = random_case(4000, d, 6);
    // make Z depend on the label: shift dimension t by a lot
    for (r, &t) in toks.iter().enumerate() {
        z[r * d + (t as usize % d)] += 4.0;
    }
    let est = Estimator::new(
        &EstimatorParams {
            bins: 50,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let col = LabelColumn::from_keys("t", toks.iter().map(|&t| Some(t)));
    let null = col.shuffled(1);
    let e = estimate(&est, &z, &[col, null], 1000);
    assert!(
        e.sets[0].mutual_information > 3.0 * e.sets[1].mutual_information,
        "{:?}",
        e.sets
    );
}

/// At an embedding-like layer Z depends only on the current token, so the
/// input n-gram MI must be the same for every n on the same positions.
#[test]
fn embedding_layer_input_mi_is_equal_across_orders() {
    let d = 24;
    let mut r = SplitMix64::new(11);
    let toks: Vec<u32> = (0..3000)
        .map(|_| ((r.unit().powi(2)) * 25.0) as u32)
        .collect();
    let table = generate(25, d, 5);
    let z: Vec<f32> = toks
        .iter()
        .flat_map(|&t| table[t as usize * d..(t as usize + 1) * d].to_vec())
        .collect();
    let docs = vec![toks.clone()];
    let plan = labels::ngram_plan(
        &docs,
        &labels::NgramConfig {
            orders: vec![1, 2, 3, 4],
            policy: labels::PositionPolicy::Shared,
            min_count: 1,
            null_seed: None,
        },
    );
    let rows = plan.positions[0].clone();
    let est = Estimator::new(
        &EstimatorParams {
            bins: 30,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let e = estimate(&est, &z[rows.start * d..rows.end * d], &plan.sets, 512);
    let inputs: Vec<f64> = e
        .sets
        .iter()
        .filter(|s| s.name.starts_with("in"))
        .map(|s| s.mutual_information)
        .collect();
    assert_eq!(inputs.len(), 4);
    for mi in &inputs {
        assert!(
            (mi - inputs[0]).abs() < 1e-9,
            "input MI differs across orders: {inputs:?}"
        );
    }
}

#[test]
fn bad_rows_are_rejected() {
    let est = Estimator::new(
        &EstimatorParams {
            bins: 10,
            ..Default::default()
        },
        3,
    )
    .unwrap();
    let mut acc = Accumulator::new(&est, &[]);
    assert_eq!(
        acc.update(&[1., 0., 0., 0., 0., 0.], &[]),
        Err(AccumulateError::ZeroRow { row: 1 })
    );
    assert_eq!(
        acc.update(&[1., f32::NAN, 0.], &[]),
        Err(AccumulateError::NonFinite { row: 0 })
    );
    assert_eq!(
        acc.update(&[1., 0.], &[]),
        Err(AccumulateError::Ragged { len: 2, d: 3 })
    );
}

use accumulator::AccumulateError;

/// Integer weights must equal repeating rows that many times (the basis of
/// the document bootstrap).
#[test]
fn weighted_rows_equal_repeated_rows() {
    let d = 8;
    let (z, toks) = random_case(60, d, 12);
    let est = Estimator::new(
        &EstimatorParams {
            bins: 12,
            ..Default::default()
        },
        d,
    )
    .unwrap();
    let weights: Vec<f64> = (0..60).map(|r| (r % 3) as f64).collect();
    let col = LabelColumn::from_keys("t", toks.iter().map(|&t| Some(t)));
    let mut acc = Accumulator::new(
        &est,
        &[LabelSpec {
            name: "t".into(),
            n_ids: col.n_ids(),
            counts: None,
        }],
    );
    let projected = est.project(&z, |_| false).unwrap();
    acc.accumulate(&projected, &[&col.ids], Some(&weights))
        .unwrap();
    let (mut z2, mut t2) = (Vec::new(), Vec::new());
    for r in 0..60 {
        for _ in 0..(r % 3) {
            z2.extend_from_slice(&z[r * d..(r + 1) * d]);
            t2.push(toks[r]);
        }
    }
    let repeated = estimate(
        &est,
        &z2,
        &[LabelColumn::from_keys("t", t2.iter().map(|&t| Some(t)))],
        1000,
    );
    let weighted = acc.estimate();
    assert!((weighted.entropy - repeated.entropy).abs() < 1e-12);
    assert!(
        (weighted.sets[0].mutual_information - repeated.sets[0].mutual_information).abs() < 1e-12
    );
}
