//! Label sets for the estimator: exact n-gram labels over a tokenized corpus,
//! an explicit position policy, rare-label pooling and shuffled-label nulls.
//!
//! At position i of a document t_0 … t_{L−1}:
//! - the input n-gram is (t_{i−n+1}, …, t_i);
//! - the output n-gram is (t_{i+1}, …, t_{i+n}).
//!
//! Position policies:
//! - `per-order` (lossy's default): order n uses positions n−1 ≤ i ≤ L−1−n,
//!   where both its input and output n-grams exist. Unigram results do not
//!   change when higher orders are also requested.
//! - `shared` (the reference's): every order uses n_max−1 ≤ i ≤ L−1−n_max.
//!
//! Keys are exact: an n-gram (n ≤ 4) of u32 token ids is packed into a u128
//! without loss, and arbitrary tuple labels are interned as whole tuples.

use super::accumulator::{LabelSpec, NO_LABEL};
use lossy_base::math::rng::{mix64, SplitMix64};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PositionPolicy {
    #[default]
    PerOrder,
    Shared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Input,
    Output,
}

impl Direction {
    pub fn prefix(self) -> &'static str {
        match self {
            Direction::Input => "in",
            Direction::Output => "out",
        }
    }
}

/// Which n-gram label sets to build.
#[derive(Clone, Debug, PartialEq)]
pub struct NgramConfig {
    /// Orders n, each in 1..=4.
    pub orders: Vec<usize>,
    pub policy: PositionPolicy,
    /// Labels seen fewer times than this are pooled into one "rare" label
    /// (1 = no pooling).
    pub min_count: u64,
    /// Also build a shuffled-label null for every set, with this seed.
    pub null_seed: Option<u64>,
}

pub const MAX_ORDER: usize = 4;

/// One label set: a dense id (or [`NO_LABEL`]) per estimator row.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelColumn {
    pub name: String,
    /// For n-gram sets: order and direction.
    pub ngram: Option<(usize, Direction)>,
    /// True for a shuffled-label null of the set of the same name.
    pub null: bool,
    pub ids: Vec<u32>,
    /// Count of each id over all rows.
    pub counts: Vec<u64>,
    /// Number of labels pooled as rare (0 without pooling).
    pub pooled: usize,
}

impl LabelColumn {
    /// Interns arbitrary keys (None = no label at that row) into dense ids.
    pub fn from_keys<K: Hash + Eq>(name: &str, keys: impl IntoIterator<Item = Option<K>>) -> Self {
        let mut index: HashMap<K, u32, FastHash> = HashMap::default();
        let mut counts = Vec::new();
        let ids = keys
            .into_iter()
            .map(|key| match key {
                None => NO_LABEL,
                Some(k) => {
                    let next = index.len() as u32;
                    let id = *index.entry(k).or_insert(next);
                    if id == next {
                        counts.push(0);
                    }
                    counts[id as usize] += 1;
                    id
                }
            })
            .collect();
        Self {
            name: name.to_string(),
            ngram: None,
            null: false,
            ids,
            counts,
            pooled: 0,
        }
    }

    pub fn n_ids(&self) -> usize {
        self.counts.len()
    }

    pub fn spec(&self) -> LabelSpec {
        LabelSpec {
            name: self.display_name(),
            n_ids: self.n_ids(),
            counts: Some(self.counts.clone()),
        }
    }

    /// `name`, or `name~null` for a null.
    pub fn display_name(&self) -> String {
        if self.null {
            format!("{}~null", self.name)
        } else {
            self.name.clone()
        }
    }

    /// Pools ids seen fewer than `min_count` times into a single id.
    pub fn pool_rare(&mut self, min_count: u64) {
        if min_count <= 1 {
            return;
        }
        let mut remap = vec![NO_LABEL; self.counts.len()];
        let mut counts = Vec::new();
        let mut rare_count = 0;
        for (id, &c) in self.counts.iter().enumerate() {
            if c >= min_count {
                remap[id] = counts.len() as u32;
                counts.push(c);
            } else {
                rare_count += c;
                self.pooled += 1;
            }
        }
        if rare_count > 0 {
            let rare = counts.len() as u32;
            counts.push(rare_count);
            remap
                .iter_mut()
                .filter(|r| **r == NO_LABEL)
                .for_each(|r| *r = rare);
        }
        for id in self.ids.iter_mut().filter(|id| **id != NO_LABEL) {
            *id = remap[*id as usize];
        }
        self.counts = counts;
    }

    /// A copy whose labels are randomly permuted among the labelled rows
    /// (Fisher–Yates over SplitMix64): the same label counts, no relation to Z.
    pub fn shuffled(&self, seed: u64) -> Self {
        let labelled: Vec<usize> = (0..self.ids.len())
            .filter(|&r| self.ids[r] != NO_LABEL)
            .collect();
        let mut values: Vec<u32> = labelled.iter().map(|&r| self.ids[r]).collect();
        let mut rng = SplitMix64::new(seed ^ mix64(name_hash(&self.name)));
        for i in (1..values.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            values.swap(i, j);
        }
        let mut ids = vec![NO_LABEL; self.ids.len()];
        for (&r, v) in labelled.iter().zip(values) {
            ids[r] = v;
        }
        Self {
            ids,
            null: true,
            ..self.clone()
        }
    }
}

fn name_hash(name: &str) -> u64 {
    let mut h = FastHasher::default();
    name.hash(&mut h);
    h.finish()
}

/// Estimator rows for a corpus, and every label set over them.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelPlan {
    /// For each document, the token positions that become estimator rows, as
    /// a half-open range (rows are these positions, documents in order).
    pub positions: Vec<std::ops::Range<usize>>,
    pub sets: Vec<LabelColumn>,
}

impl LabelPlan {
    pub fn rows(&self) -> usize {
        self.positions.iter().map(|r| r.len()).sum()
    }
    pub fn specs(&self) -> Vec<LabelSpec> {
        self.sets.iter().map(LabelColumn::spec).collect()
    }
    pub fn id_slices(&self, rows: std::ops::Range<usize>) -> Vec<&[u32]> {
        self.sets.iter().map(|s| &s.ids[rows.clone()]).collect()
    }
}

/// Builds input and output n-gram sets (and nulls) for tokenized documents.
pub fn ngram_plan(docs: &[Vec<u32>], cfg: &NgramConfig) -> LabelPlan {
    assert!(
        cfg.orders.iter().all(|&n| (1..=MAX_ORDER).contains(&n)),
        "orders must be in 1..=4"
    );
    let n_min = *cfg.orders.iter().min().expect("at least one order");
    let n_max = *cfg.orders.iter().max().unwrap();
    let range_for = |n: usize, len: usize| -> std::ops::Range<usize> {
        let n = if cfg.policy == PositionPolicy::Shared {
            n_max
        } else {
            n
        };
        // n−1 ≤ i ≤ len−1−n
        (n - 1)..(len.saturating_sub(n)).max(n - 1)
    };
    let positions: Vec<_> = docs.iter().map(|d| range_for(n_min, d.len())).collect();
    let mut sets = Vec::new();
    let mut orders = cfg.orders.clone();
    orders.sort_unstable();
    orders.dedup();
    for &n in &orders {
        for dir in [Direction::Input, Direction::Output] {
            let keys = docs.iter().zip(&positions).flat_map(|(doc, rows)| {
                let valid = range_for(n, doc.len());
                rows.clone()
                    .map(move |i| valid.contains(&i).then(|| ngram_key(doc, i, n, dir)))
            });
            let mut col = LabelColumn::from_keys(&format!("{}{n}", dir.prefix()), keys);
            col.ngram = Some((n, dir));
            col.pool_rare(cfg.min_count);
            sets.push(col);
        }
    }
    if let Some(seed) = cfg.null_seed {
        let nulls: Vec<_> = sets.iter().map(|s| s.shuffled(seed)).collect();
        sets.extend(nulls);
    }
    LabelPlan { positions, sets }
}

/// The n-gram at position i packed losslessly: token k in bits 32k..32k+32.
fn ngram_key(doc: &[u32], i: usize, n: usize, dir: Direction) -> u128 {
    let start = match dir {
        Direction::Input => i + 1 - n,
        Direction::Output => i + 1,
    };
    doc[start..start + n]
        .iter()
        .enumerate()
        .fold(0u128, |k, (j, &t)| k | (t as u128) << (32 * j))
}

/// A small, fast, non-cryptographic hasher for interning (the FxHash
/// multiply-rotate scheme); labels are not attacker-controlled.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);
pub type FastHash = BuildHasherDefault<FastHasher>;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, x: u128) {
        self.write_u64(x as u64);
        self.write_u64((x >> 64) as u64);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(orders: &[usize], policy: PositionPolicy) -> NgramConfig {
        NgramConfig {
            orders: orders.to_vec(),
            policy,
            min_count: 1,
            null_seed: None,
        }
    }

    #[test]
    fn per_order_positions_do_not_depend_on_other_orders() {
        let docs = vec![vec![5, 6, 7, 8, 9, 10, 11], vec![1, 2]];
        let uni = ngram_plan(&docs, &cfg(&[1], PositionPolicy::PerOrder));
        let all = ngram_plan(&docs, &cfg(&[1, 2, 3], PositionPolicy::PerOrder));
        assert_eq!(uni.positions, vec![0..6, 0..1]);
        assert_eq!(all.positions, uni.positions);
        assert_eq!(all.sets[0].ids, uni.sets[0].ids);
        // trigram rows: positions 2..=3 of doc 0 only
        let in3 = &all.sets[4];
        assert_eq!(in3.name, "in3");
        let labelled: Vec<_> = in3.ids.iter().map(|&i| i != NO_LABEL).collect();
        assert_eq!(
            labelled,
            vec![false, false, true, true, false, false, false]
        );
    }

    #[test]
    fn shared_policy_matches_the_reference_positions() {
        let docs = vec![(0..10).collect::<Vec<u32>>()];
        let plan = ngram_plan(&docs, &cfg(&[1, 4], PositionPolicy::Shared));
        // i_min = n_max − 1 = 3, i_max = L − n_max − 1 = 5
        assert_eq!(plan.positions, vec![3..6]);
        assert!(plan
            .sets
            .iter()
            .all(|s| s.ids.iter().all(|&i| i != NO_LABEL)));
    }

    #[test]
    fn ngram_keys_are_exact_tuples() {
        let doc = vec![u32::MAX - 3, 7, u32::MAX - 3, 7, 9];
        assert_eq!(
            ngram_key(&doc, 1, 2, Direction::Input),
            ngram_key(&doc, 3, 2, Direction::Input)
        );
        assert_ne!(
            ngram_key(&doc, 1, 2, Direction::Input),
            ngram_key(&doc, 2, 2, Direction::Input)
        );
        assert_eq!(
            ngram_key(&doc, 0, 2, Direction::Output),
            ngram_key(&doc, 2, 2, Direction::Input)
        );
    }

    #[test]
    fn pooling_and_shuffling_keep_counts() {
        let mut col =
            LabelColumn::from_keys("x", [Some(1), Some(2), Some(1), None, Some(3), Some(1)]);
        assert_eq!(col.counts, vec![3, 1, 1]);
        let shuffled = col.shuffled(9);
        let mut a = shuffled.counts.clone();
        a.sort();
        assert_eq!(a, vec![1, 1, 3]);
        assert_eq!(shuffled.ids[3], NO_LABEL);
        col.pool_rare(2);
        assert_eq!(col.counts, vec![3, 2]);
        assert_eq!(col.ids, vec![0, 1, 0, NO_LABEL, 1, 0]);
        assert_eq!(col.pooled, 2);
    }
}
