//! The document-block bootstrap against the reference: replicate values
//! from lossy's per-block sums equal soft-entropy (numpy backend) run on the
//! corpus with each row repeated by its block's weight
//! (`scripts/interval_fixtures.py`), to 1e-5 absolute (the reference sums
//! in f32). They also equal lossy's own row-weighted accumulator (f64 sums)
//! to 1e-6, whatever the batch split (the per-block label sums are f32).

use super::support::fixtures;
use lossy::features::estimator::blocks::{BlockAccumulator, BlockLayout};
use lossy::features::estimator::labels::LabelColumn;
use lossy::features::estimator::{Accumulator, Estimator, WSource};
use lossy::io::npy;
use serde_json::Value;
use std::path::PathBuf;

fn dir() -> PathBuf {
    fixtures().join("intervals")
}

fn ints(name: &str) -> Vec<i64> {
    let a = npy::read(&dir().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e} (run scripts/interval_fixtures.py)"));
    a.as_ints().expect("int array").to_vec()
}

struct Case {
    json: Value,
    est: Estimator,
    z: Vec<f32>,
    cols: Vec<LabelColumn>,
    block_of_row: Vec<u32>,
    k: usize,
}

fn load() -> Case {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("case.json")).unwrap()).unwrap();
    let (m, d, k) = (
        json["m"].as_u64().unwrap() as usize,
        json["d"].as_u64().unwrap() as usize,
        json["blocks"].as_u64().unwrap() as usize,
    );
    let w = npy::read(&dir().join("w.npy")).unwrap().to_f32().unwrap();
    let z = npy::read(&dir().join("z.npy")).unwrap().to_f32().unwrap();
    let source = WSource::Generated {
        algorithm: "fixture".into(),
        seed: 0,
    };
    let est = Estimator::from_parts(w, m, d, json["epsilon"].as_f64().unwrap(), source);
    let cols = ["in", "out"]
        .iter()
        .map(|s| LabelColumn::from_keys(s, ints(&format!("labels_{s}.npy")).into_iter().map(Some)))
        .collect();
    let block_of_row = ints("docs.npy")
        .iter()
        .map(|&doc| (doc as usize % k) as u32)
        .collect();
    Case {
        json,
        est,
        z,
        cols,
        block_of_row,
        k,
    }
}

/// Feeds the whole corpus in batches of `batch` rows.
fn block_sums<'l>(c: &Case, layout: &'l BlockLayout, batch: usize) -> BlockAccumulator<'l> {
    let specs: Vec<_> = c.cols.iter().map(LabelColumn::spec).collect();
    let main = Accumulator::new(&c.est, &specs);
    let mut acc = BlockAccumulator::new(layout, c.est.m);
    let (d, n) = (c.est.d, c.block_of_row.len());
    for lo in (0..n).step_by(batch) {
        let hi = (lo + batch).min(n);
        let ids: Vec<&[u32]> = c.cols.iter().map(|s| &s.ids[lo..hi]).collect();
        let need = main.row_entropy_mask(&ids, hi - lo);
        let p = c.est.project(&c.z[lo * d..hi * d], |r| need[r]).unwrap();
        acc.accumulate(&p, &ids, &c.block_of_row[lo..hi]);
    }
    acc
}

fn layout(c: &Case) -> BlockLayout {
    let specs: Vec<_> = c.cols.iter().map(LabelColumn::spec).collect();
    let ids: Vec<&[u32]> = c.cols.iter().map(|s| s.ids.as_slice()).collect();
    BlockLayout::new(c.k, &specs, &ids, &c.block_of_row)
}

fn weights(c: &Case) -> Vec<Vec<f64>> {
    c.json["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn block_replicates_match_the_reference_on_repeated_rows() {
    let c = load();
    let layout = layout(&c);
    let acc = block_sums(&c, &layout, 17);
    let reps = c.json["replicates"].as_array().unwrap();
    for (b, (w, want)) in weights(&c).iter().zip(reps).enumerate() {
        let got = acc.weighted(w);
        let h = want["entropy"].as_f64().unwrap();
        assert!(
            (got.entropy - h).abs() < 1e-5,
            "replicate {b}: H {} vs {h}",
            got.entropy
        );
        for set in &got.sets {
            let mi = want["mutual_information"][&set.name].as_f64().unwrap();
            assert!(
                (set.mutual_information - mi).abs() < 1e-5,
                "replicate {b}, set {}: I {} vs {mi}",
                set.name,
                set.mutual_information
            );
        }
    }
}

#[test]
fn block_replicates_equal_row_weighted_accumulation_for_any_batching() {
    let c = load();
    let layout = layout(&c);
    let specs: Vec<_> = c.cols.iter().map(LabelColumn::spec).collect();
    let ids: Vec<&[u32]> = c.cols.iter().map(|s| s.ids.as_slice()).collect();
    let all = c.est.project(&c.z, |_| true).unwrap();
    for batch in [1, 7, 1000] {
        let acc = block_sums(&c, &layout, batch);
        for w in weights(&c) {
            let row_w: Vec<f64> = c.block_of_row.iter().map(|&k| w[k as usize]).collect();
            let mut direct = Accumulator::new(&c.est, &specs);
            direct.accumulate(&all, &ids, Some(&row_w)).unwrap();
            let (want, got) = (direct.estimate(), acc.weighted(&w));
            assert!((want.entropy - got.entropy).abs() < 1e-12);
            assert_eq!(want.rows, got.rows);
            for (a, b) in want.sets.iter().zip(&got.sets) {
                let diff = (a.mutual_information - b.mutual_information).abs();
                assert!(diff < 1e-6, "{}: {diff}", a.name);
                assert_eq!(a.distinct, b.distinct, "{}", a.name);
            }
        }
    }
}

/// The state is one m-vector per (repeated label, block) pair, however many
/// replicates are drawn from it.
#[test]
fn block_state_counts_label_block_pairs() {
    let c = load();
    let layout = layout(&c);
    let mut pairs = std::collections::HashSet::new();
    for col in &c.cols {
        for (r, &id) in col.ids.iter().enumerate() {
            if col.counts[id as usize] > 1 {
                pairs.insert((col.name.clone(), id, c.block_of_row[r]));
            }
        }
    }
    assert_eq!(layout.slots(), pairs.len());
    assert!(layout.slots() < c.block_of_row.len() * 2);
}
