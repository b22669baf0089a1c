//! The memory budget of a model's feature pass (`features.memory`) and the
//! layer groups it allows.
//!
//! A model's predicted peak memory is a fixed part (weights, one batch of
//! activations, the reference points, the corpus, the label tables) plus
//! one accumulator (and, with the bootstrap, one set of block sums) per
//! layer in flight ([`super::memory`] sizes the latter exactly). When every
//! layer does not fit in 85% of the budget ([`HEADROOM`]), the pass runs in groups of contiguous
//! layers, one pass over the corpus per group ([`super::groups`]), each
//! holding only its own layers' state; the estimates are bit-identical to
//! one pass. When not even one layer fits, [`layer_groups`] says so with
//! the numbers, before any model runs.
//!
//! The default budget is three quarters of the memory available now (Linux:
//! `MemAvailable` in `/proc/meminfo`, and the cgroup's limit less its usage
//! when the process runs in one, as under Slurm); elsewhere there is no
//! default and every layer goes in one pass.

use serde::Serialize;
use std::ops::Range;
use std::path::PathBuf;

/// The share of available memory a run plans for unless the study says.
pub const DEFAULT_FRACTION: f64 = 0.75;

/// The share of a budget the predicted peak may fill, as a ratio (17/20 =
/// 85%): measured peaks run up to about 12% above the prediction (the
/// runtime, threads and the allocator's slack; `reports/bench/layer_groups.md`).
pub const HEADROOM: (u64, u64) = (17, 20);

/// The bytes of `budget` the predicted peak may use ([`HEADROOM`]).
pub fn usable(budget: u64) -> u64 {
    (budget as u128 * HEADROOM.0 as u128 / HEADROOM.1 as u128) as u64
}

/// The smallest budget whose usable part holds `peak`.
pub fn budget_for(peak: u64) -> u64 {
    (peak as u128 * HEADROOM.1 as u128).div_ceil(HEADROOM.0 as u128) as u64
}

/// Bytes from a size as a person writes it: `16GiB`, `512 MiB`, `2.5GB`,
/// `8G` (decimal unless `i`), or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<u64, parse_size::Error> {
    parse_size::parse_size(text.trim())
}

/// A size for people: `1.5 GiB`.
pub fn human(bytes: u64) -> String {
    let (scale, unit) = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        .into_iter()
        .find(|(s, _)| bytes >= *s)
        .unwrap_or((1, "B"));
    format!("{:.1} {unit}", bytes as f64 / scale as f64)
}

/// A budget and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    pub bytes: u64,
    /// `Some(study file)` when `features.memory` set it; `None` for the
    /// default (a share of the memory available).
    pub study: Option<PathBuf>,
}

impl Budget {
    /// The study's `features.memory`, else the default (if one is known).
    pub fn resolve(memory: Option<u64>, study: &std::path::Path) -> Option<Budget> {
        match memory {
            Some(bytes) => Some(Budget {
                bytes,
                study: Some(study.to_path_buf()),
            }),
            None => default_bytes().map(|bytes| Budget { bytes, study: None }),
        }
    }
}

/// [`DEFAULT_FRACTION`] of the memory available to this process now.
pub fn default_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let mut available = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())?
        * 1024;
    if let Some(room) = cgroup_room() {
        available = available.min(room);
    }
    Some((available as f64 * DEFAULT_FRACTION) as u64)
}

/// The cgroup's memory limit less what the cgroup uses (`None` without a
/// limit): cgroup v2 (`memory.max`) or v1 (`memory.limit_in_bytes`).
fn cgroup_room() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let root = std::path::Path::new("/sys/fs/cgroup");
    let read = |dir: &std::path::Path, name: &str| -> Option<u64> {
        std::fs::read_to_string(dir.join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, rel) = (parts.next()?, parts.next()?, parts.next()?);
        let rel = rel.trim_start_matches('/');
        let (dir, max, current) = if controllers.is_empty() {
            (root.join(rel), "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                root.join("memory").join(rel),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        // "max" (v2, no limit) does not parse; v1 writes a huge number.
        if let Some(limit) = read(&dir, max).filter(|&l| l < 1 << 60) {
            return Some(limit.saturating_sub(read(&dir, current).unwrap_or(0)));
        }
    }
    None
}

/// What one model's pass needs (bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct MemoryNeed {
    /// Weights, activations, reference points, corpus and label tables.
    pub fixed: u64,
    /// One layer's accumulator and bootstrap block sums.
    pub per_layer: u64,
    /// Layers including the embedding layer.
    pub layers: usize,
}

impl MemoryNeed {
    /// The peak with `layers` layers in flight.
    pub fn peak(&self, layers: usize) -> u64 {
        self.fixed + layers as u64 * self.per_layer
    }
}

/// Not even one layer fits the budget.
#[derive(Debug, thiserror::Error)]
#[error("{}", too_small_message(.budget, .need, .model))]
pub struct BudgetError {
    pub model: String,
    pub budget: Budget,
    pub need: MemoryNeed,
}

fn too_small_message(budget: &Budget, need: &MemoryNeed, model: &str) -> String {
    let whose = match &budget.study {
        Some(p) => format!("`features.memory` in {} is", p.display()),
        None => "the default memory budget (3/4 of the available memory) is".into(),
    };
    let least = budget_for(need.peak(1));
    format!(
        "{whose} {}, but model `{model}` needs {} for its weights, a batch of activations, the \
         corpus and the label tables, plus {} per layer: at least {} with one layer per pass \
         ({} passes over the corpus; lossy plans for 85% of the budget), {} for all {} layers \
         in one pass. Set `features.memory` to at least {}, or lower `features.bins`, \
         `features.bootstrap` (or `bootstrap_blocks`), the n-gram `orders`, `batch_size` or \
         `corpus.max_documents`",
        human(budget.bytes),
        human(need.fixed),
        human(need.per_layer),
        human(least),
        need.layers,
        human(budget_for(need.peak(need.layers))),
        need.layers,
        human_up(least),
    )
}

/// A size rounded up to a whole MiB, written as a study takes it (`1536MiB`).
fn human_up(bytes: u64) -> String {
    format!("{}MiB", bytes.div_ceil(1 << 20))
}

/// The contiguous layer groups of one model's passes: one group when every
/// layer fits (or there is no budget), else the fewest passes that fit,
/// with layers shared out evenly. An error when not even one layer fits.
pub fn layer_groups(
    model: &str,
    need: &MemoryNeed,
    budget: Option<&Budget>,
) -> Result<Vec<Range<usize>>, BudgetError> {
    let layers = need.layers.max(1);
    let Some(budget) = budget else {
        return Ok(vec![0..layers]);
    };
    let room = usable(budget.bytes).saturating_sub(need.fixed);
    let per_pass = if need.per_layer == 0 {
        layers
    } else {
        (room / need.per_layer).min(layers as u64) as usize
    };
    if per_pass == 0 {
        return Err(BudgetError {
            model: model.into(),
            budget: budget.clone(),
            need: *need,
        });
    }
    Ok(even_groups(layers, layers.div_ceil(per_pass)))
}

/// The layer groups of one model and, when the default budget was too small
/// even for one layer, a warning (the pass then runs one layer at a time).
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub groups: Vec<Range<usize>>,
    pub warning: Option<String>,
}

/// [`layer_groups`], except that a default budget (not the study's) that is
/// too small is a warning, not an error: a study without `features.memory`
/// runs as it always did, one layer per pass at worst.
pub fn schedule(
    model: &str,
    need: &MemoryNeed,
    budget: Option<&Budget>,
) -> Result<Schedule, BudgetError> {
    match layer_groups(model, need, budget) {
        Ok(groups) => Ok(Schedule {
            groups,
            warning: None,
        }),
        Err(e) if e.budget.study.is_none() => Ok(Schedule {
            groups: even_groups(need.layers, need.layers),
            warning: Some(format!("warning: {e}; running one layer per pass")),
        }),
        Err(e) => Err(e),
    }
}

/// `layers` split into `passes` contiguous groups whose sizes differ by at
/// most one (the larger first).
pub fn even_groups(layers: usize, passes: usize) -> Vec<Range<usize>> {
    let passes = passes.clamp(1, layers.max(1));
    let (size, extra) = (layers / passes, layers % passes);
    let mut start = 0;
    (0..passes)
        .map(|p| {
            let end = start + size + usize::from(p < extra);
            let g = start..end;
            start = end;
            g
        })
        .collect()
}

/// The forward pass's cost of running `groups` relative to one pass: a
/// pass stops after its group's last layer, so the group ending at hidden
/// state `e` (of `L` blocks) costs about `e / L` of a full pass.
pub fn forward_cost(groups: &[Range<usize>]) -> f64 {
    let blocks = groups.last().map_or(0, |g| g.end.saturating_sub(1));
    if blocks == 0 {
        return groups.len() as f64;
    }
    groups
        .iter()
        .map(|g| (g.end.saturating_sub(1)).max(1) as f64 / blocks as f64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_people_write_them() {
        assert_eq!(parse_size("16GiB").unwrap(), 16 << 30);
        assert_eq!(parse_size(" 512 MiB ").unwrap(), 512 << 20);
        assert_eq!(parse_size("2.5GB").unwrap(), 2_500_000_000);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1GiB").is_err());
    }

    #[test]
    fn groups_are_the_fewest_passes_that_fit() {
        let need = MemoryNeed {
            fixed: 1000,
            per_layer: 100,
            layers: 25,
        };
        // A budget whose usable part (85%) is `u` bytes.
        let budget = |u: u64| {
            let b = Budget {
                bytes: budget_for(u),
                study: None,
            };
            assert!(usable(b.bytes) >= u && usable(b.bytes - 1) < u);
            b
        };
        assert_eq!(layer_groups("m", &need, None).unwrap(), vec![0..25]);
        assert_eq!(
            layer_groups("m", &need, Some(&budget(1000 + 2500))).unwrap(),
            vec![0..25]
        );
        // 10 layers fit: 3 passes of 9, 8, 8.
        let b = budget(1000 + 1099);
        let g = layer_groups("m", &need, Some(&b)).unwrap();
        assert_eq!(g, vec![0..9, 9..17, 17..25]);
        for g in &g {
            assert!(need.peak(g.len()) <= usable(b.bytes));
        }
        let one = layer_groups("m", &need, Some(&budget(1100))).unwrap();
        assert_eq!(one.len(), 25);
        let short = Budget {
            bytes: budget_for(1100) - 1,
            study: None,
        };
        let err = layer_groups("m", &need, Some(&short)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("model `m`") && msg.contains("at least 1MiB"),
            "{msg}"
        );
        let named = Budget {
            bytes: 10,
            study: Some("s.yaml".into()),
        };
        let msg = layer_groups("m", &need, Some(&named))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`features.memory` in s.yaml"), "{msg}");
    }

    #[test]
    fn even_groups_cover_every_layer_once() {
        for layers in 1..30 {
            for passes in 1..=layers {
                let g = even_groups(layers, passes);
                assert_eq!(g.len(), passes);
                assert_eq!(g[0].start, 0);
                assert_eq!(g.last().unwrap().end, layers);
                assert!(g.windows(2).all(|w| w[0].end == w[1].start));
                let (lo, hi) = (
                    g.iter().map(|r| r.len()).min().unwrap(),
                    g.iter().map(|r| r.len()).max().unwrap(),
                );
                assert!(hi - lo <= 1);
            }
        }
    }

    #[test]
    fn forward_cost_counts_the_blocks_each_pass_runs() {
        assert_eq!(forward_cost(&[0..13]), 1.0);
        // 12 blocks: passes stop after hidden states 6 and 12.
        assert_eq!(forward_cost(&[0..7, 7..13]), 0.5 + 1.0);
    }
}
