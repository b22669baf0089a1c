//! Checkpoint series from a pattern: a glob or a training run's folder
//! (`checkpoints: runs/exp1/checkpoint-*`), or a hub repository's revisions
//! listed by pattern (`revisions: "step*"`). Each match becomes one model,
//! named `<base>@<folder or revision>` and stepped from its name.
//!
//! The step rule (documented in the README): the number after the first
//! `step` in the name (`step1000`, `global_step_1000`,
//! `stage1-step5000-tokens20B`), else after `checkpoint-`/`checkpoint_`, else
//! the name's last number (`ckpt-00500`). A `step_regex` replaces the rule:
//! its group named `step`, else its first group, else its whole match, read
//! as a number. The series is ordered by step, so a regex on another number
//! (`tokens(\d+)B` for OLMo's stage names, whose step counts restart) is the
//! ordering key. Local globs expand when the study is read (so `watch`
//! re-reads the study to see new checkpoints); hub revisions expand in the
//! pipeline, which can ask the hub ([`expand_revisions`]).

use crate::models::{ModelEntry, Precision};
use regex::Regex;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How a series names and steps its members.
#[derive(Clone, Debug, Serialize)]
pub struct StepRule {
    /// `None`: the default rule (module docs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_regex: Option<String>,
    #[serde(skip)]
    regex: Option<Regex>,
}

impl StepRule {
    /// The default rule, or `pattern` compiled (a message when it does not).
    pub fn new(pattern: Option<&str>) -> Result<Self, String> {
        let regex = pattern
            .map(|p| Regex::new(p).map_err(|e| format!("`step_regex` is not a regex: {e}")))
            .transpose()?;
        Ok(Self {
            step_regex: pattern.map(str::to_string),
            regex,
        })
    }

    /// The step `name` gives, if any.
    pub fn step(&self, name: &str) -> Option<f64> {
        match &self.regex {
            Some(re) => {
                let caps = re.captures(name)?;
                let m = caps.name("step").or_else(|| caps.get(1)).or(caps.get(0))?;
                m.as_str().parse().ok()
            }
            None => default_step(name),
        }
    }

    /// The rule in words, for messages.
    pub fn describe(&self) -> String {
        match &self.step_regex {
            Some(r) => format!("`step_regex: {r}`"),
            None => "the default rule (the number after `step`, else after `checkpoint-`, else the last number; set `step_regex` to change it)".into(),
        }
    }
}

/// The number after the first `step`, else after `checkpoint-`/`_`, else the
/// last number in `name`.
pub fn default_step(name: &str) -> Option<f64> {
    let after = |key: &str| -> Option<f64> {
        let lower = name.to_ascii_lowercase();
        let at = lower.find(key)? + key.len();
        let rest = lower[at..].trim_start_matches(['-', '_']);
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    after("step").or_else(|| after("checkpoint")).or_else(|| {
        let mut last = None;
        let mut cur = String::new();
        for ch in name.chars().chain(std::iter::once(' ')) {
            if ch.is_ascii_digit() {
                cur.push(ch);
            } else if !cur.is_empty() {
                last = cur.parse().ok();
                cur.clear();
            }
        }
        last
    })
}

/// What every member of a series shares.
#[derive(Clone, Debug, Serialize)]
pub struct Template {
    /// The `name` key: each member is `<name>@<folder>`; without it the
    /// base is `family`, else each match's parent folder (local) or the
    /// repository's name (hub).
    pub name: Option<String>,
    pub family: Option<String>,
    pub precision: Precision,
    pub unreleased: bool,
}

/// A series that could not be expanded.
#[derive(Debug, thiserror::Error)]
pub enum SeriesError {
    #[error("`{pattern}` matches nothing{hint}")]
    NoMatch { pattern: String, hint: String },
    #[error("`{a}` and `{b}` both give step {step} in series `{family}` ({rule}); rename one, give `family` per folder, or set a `step_regex` that tells them apart")]
    SameStep {
        a: String,
        b: String,
        step: f64,
        family: String,
        rule: String,
    },
    #[error("`{name}` matches `{pattern}` but gives no step by {rule}")]
    NoStep {
        name: String,
        pattern: String,
        rule: String,
    },
    #[error("`{pattern}` is not a valid pattern")]
    Pattern {
        pattern: String,
        #[source]
        source: glob::PatternError,
    },
    #[error("cannot list {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// True when `s` has glob metacharacters.
pub fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The checkpoint folders of a local series: the matches of a glob, or the
/// sub-folders of a run folder whose name gives a step (the others, such
/// as `logs/`, are not checkpoints). Sorted by family then step.
pub fn expand_local(
    pattern: &Path,
    written: &str,
    rule: &StepRule,
    t: &Template,
) -> Result<Vec<ModelEntry>, SeriesError> {
    let text = pattern.to_string_lossy();
    let mut found: Vec<(PathBuf, f64)> = Vec::new();
    if is_glob(&text) {
        let paths = glob::glob(&text).map_err(|source| SeriesError::Pattern {
            pattern: written.into(),
            source,
        })?;
        for p in paths.flatten().filter(|p| p.is_dir()) {
            let name = folder_name(&p);
            let step = rule.step(&name).ok_or_else(|| SeriesError::NoStep {
                name: p.display().to_string(),
                pattern: written.into(),
                rule: rule.describe(),
            })?;
            found.push((p, step));
        }
    } else {
        let entries = std::fs::read_dir(pattern).map_err(|source| SeriesError::Read {
            path: pattern.into(),
            source,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !folder_name(&p).starts_with('.') {
                if let Some(step) = rule.step(&folder_name(&p)) {
                    found.push((p, step));
                }
            }
        }
    }
    if found.is_empty() {
        return Err(SeriesError::NoMatch {
            pattern: written.into(),
            hint: format!(" (resolved to {})", pattern.display()),
        });
    }
    let members: Vec<Member> = found
        .into_iter()
        .map(|(path, step)| {
            let parent = path.parent().map(Path::to_path_buf);
            let base = t.name.clone().or(t.family.clone()).unwrap_or_else(|| {
                parent
                    .as_deref()
                    .map(folder_name)
                    .unwrap_or_else(|| "run".into())
            });
            Member {
                label: folder_name(&path),
                shown: path.display().to_string(),
                family: t.family.clone().unwrap_or_else(|| base.clone()),
                base,
                step,
                path: Some(path),
                root: parent,
            }
        })
        .collect();
    finish(members, rule, t, None)
}

/// One match before it becomes a [`ModelEntry`].
struct Member {
    label: String,
    shown: String,
    base: String,
    family: String,
    step: f64,
    path: Option<PathBuf>,
    root: Option<PathBuf>,
}

/// Sorts by family and step, rejects two members on one step, and builds the entries.
fn finish(
    mut members: Vec<Member>,
    rule: &StepRule,
    t: &Template,
    id: Option<&str>,
) -> Result<Vec<ModelEntry>, SeriesError> {
    members.sort_by(|a, b| {
        a.family
            .cmp(&b.family)
            .then(a.step.total_cmp(&b.step))
            .then(a.label.cmp(&b.label))
    });
    for w in members.windows(2) {
        if w[0].family == w[1].family && w[0].step == w[1].step {
            return Err(SeriesError::SameStep {
                a: w[0].shown.clone(),
                b: w[1].shown.clone(),
                step: w[0].step,
                family: w[0].family.clone(),
                rule: rule.describe(),
            });
        }
    }
    Ok(members
        .into_iter()
        .map(|m| ModelEntry {
            name: format!("{}@{}", m.base, m.label),
            path: m.path,
            family: Some(m.family),
            precision: t.precision,
            id: id.map(str::to_string),
            revision: id.map(|_| m.label.clone()),
            step: Some(m.step),
            unreleased: t.unreleased,
            // One `tokens:` cannot describe every checkpoint of a series.
            train_tokens: None,
            root: m.root,
        })
        .collect())
}

fn folder_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A hub checkpoint series given by a revision pattern, expanded by the
/// pipeline once it has listed the repository's branches and tags.
#[derive(Clone, Debug, Serialize)]
pub struct RevisionPattern {
    /// Where the series' models go in the study's model list.
    pub at: usize,
    pub id: String,
    /// A glob over branch and tag names (`step*`, `stage1-*`).
    pub pattern: String,
    #[serde(flatten)]
    pub rule: StepRule,
    pub template: Template,
}

/// The models of a revision pattern, given the repository's branch and tag
/// names, ordered by step.
pub fn expand_revisions(
    p: &RevisionPattern,
    refs: &[String],
) -> Result<Vec<ModelEntry>, SeriesError> {
    let glob = glob::Pattern::new(&p.pattern).map_err(|source| SeriesError::Pattern {
        pattern: p.pattern.clone(),
        source,
    })?;
    let base = p
        .template
        .name
        .clone()
        .unwrap_or_else(|| p.id.rsplit('/').next().unwrap_or_default().to_string());
    let mut members = Vec::new();
    for r in refs.iter().filter(|r| glob.matches(r)) {
        let step = p.rule.step(r).ok_or_else(|| SeriesError::NoStep {
            name: r.clone(),
            pattern: p.pattern.clone(),
            rule: p.rule.describe(),
        })?;
        members.push(Member {
            label: r.clone(),
            shown: r.clone(),
            base: base.clone(),
            family: p.template.family.clone().unwrap_or_else(|| base.clone()),
            step,
            path: None,
            root: None,
        });
    }
    if members.is_empty() {
        return Err(SeriesError::NoMatch {
            pattern: p.pattern.clone(),
            hint: format!(
                " among the {} branches and tags of model {}",
                refs.len(),
                p.id
            ),
        });
    }
    finish(members, &p.rule, &p.template, Some(&p.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template {
            name: None,
            family: None,
            precision: Precision::F32,
            unreleased: false,
        }
    }

    #[test]
    fn default_rule_reads_common_layouts() {
        for (name, step) in [
            ("checkpoint-500", 500.0),
            ("step1000", 1000.0),
            ("step_2000", 2000.0),
            ("global_step300", 300.0),
            ("stage1-step5000-tokens21B", 5000.0),
            ("ckpt-00500", 500.0),
            ("iter_0001000", 1000.0),
        ] {
            assert_eq!(default_step(name), Some(step), "{name}");
        }
        assert_eq!(default_step("final"), None);
    }

    #[test]
    fn regex_names_the_step_group() {
        let r = StepRule::new(Some(r"tokens(?P<step>\d+)B")).unwrap();
        assert_eq!(r.step("stage2-ingredient1-step1000-tokens5B"), Some(5.0));
        let r = StepRule::new(Some(r"-(\d+)$")).unwrap();
        assert_eq!(r.step("run-a-42"), Some(42.0));
        assert!(StepRule::new(Some("(")).is_err());
    }

    #[test]
    fn olmo_stage_names_order_by_the_key() {
        let refs: Vec<String> = [
            "main",
            "stage2-ingredient1-step1000-tokens4200B",
            "stage1-step928646-tokens3896B",
            "stage1-step1000-tokens5B",
        ]
        .map(String::from)
        .to_vec();
        let mut p = RevisionPattern {
            at: 0,
            id: "allenai/OLMo-2-1124-7B".into(),
            pattern: "stage*".into(),
            rule: StepRule::new(Some(r"tokens(\d+)B")).unwrap(),
            template: template(),
        };
        let names: Vec<String> = expand_revisions(&p, &refs)
            .unwrap()
            .into_iter()
            .map(|e| e.revision.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "stage1-step1000-tokens5B",
                "stage1-step928646-tokens3896B",
                "stage2-ingredient1-step1000-tokens4200B"
            ]
        );
        // by the step in the name, stage 2 restarts: two members on one step
        p.rule = StepRule::new(None).unwrap();
        let refs2: Vec<String> = ["stage1-step1000-tokens5B", "stage2-step1000-tokens4200B"]
            .map(String::from)
            .to_vec();
        let e = expand_revisions(&p, &refs2).unwrap_err().to_string();
        assert!(e.contains("both give step 1000"), "{e}");
        p.pattern = "step*".into();
        let e = expand_revisions(&p, &refs).unwrap_err().to_string();
        assert!(
            e.contains("`step*` matches nothing among the 4 branches"),
            "{e}"
        );
    }

    #[test]
    fn local_glob_and_run_folder() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("exp1");
        for c in ["checkpoint-1000", "checkpoint-500", "logs"] {
            std::fs::create_dir_all(run.join(c)).unwrap();
        }
        let rule = StepRule::new(None).unwrap();
        let t = template();
        let by_glob =
            expand_local(&run.join("checkpoint-*"), "exp1/checkpoint-*", &rule, &t).unwrap();
        let by_folder = expand_local(&run, "exp1", &rule, &t).unwrap();
        for e in [&by_glob, &by_folder] {
            let names: Vec<&str> = e.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["exp1@checkpoint-500", "exp1@checkpoint-1000"]);
            assert_eq!(e[0].step, Some(500.0));
            assert_eq!(e[0].family.as_deref(), Some("exp1"));
            assert_eq!(e[0].root.as_deref(), Some(run.as_path()));
        }
        let e = expand_local(&run.join("step*"), "exp1/step*", &rule, &t)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("`exp1/step*` matches nothing"), "{e}");
        std::fs::create_dir_all(run.join("checkpoint-0500")).unwrap();
        let e = expand_local(&run, "exp1", &rule, &t)
            .unwrap_err()
            .to_string();
        assert!(e.contains("both give step 500 in series `exp1`"), "{e}");
    }
}
