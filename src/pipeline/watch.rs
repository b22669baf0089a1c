//! `lossy watch`: keeps a study's report current while a training run
//! writes checkpoints. Each poll re-reads the study (so checkpoint globs and
//! run folders are expanded again) and lists hub revision patterns again;
//! a checkpoint still being written ([`crate::models::completeness`]) is
//! skipped until it is whole. Each new checkpoint then gets one ordinary
//! [`super::run`] over every ready checkpoint: features of the ones seen
//! before come from the content-addressed feature cache, so only the new one
//! is probed, and the fit, ranking and figures are redone. The report folder
//! is replaced in one step ([`crate::report::Staging`]), so a reader sees the
//! old report or the new one. A failed run (a folder removed while it was
//! read, say) keeps the old report and is reported; the watch goes on.
//! While too few checkpoints have scores for the fit, the report is written
//! without it and says why on the console.

use super::{Progress, RunError, RunOptions};
use crate::models::ModelEntry;
use crate::study::{self, Study, StudyError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How `watch` polls.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    pub run: RunOptions,
    /// Time between polls.
    pub interval: Duration,
    /// One pass over what is ready now, then return (for cron or Slurm).
    pub once: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The study does not load at the start (later, the old report stays
    /// and the watch waits for the file to be fixed).
    #[error(transparent)]
    Study(#[from] StudyError),
    #[error("no checkpoint of the study is complete yet; nothing to report")]
    NothingReady,
    /// `--once`: the run failed.
    #[error("report {path}")]
    Run {
        path: PathBuf,
        #[source]
        source: RunError,
    },
}

/// What a watch did before it returned.
#[derive(Debug, Default)]
pub struct WatchSummary {
    /// Report versions written.
    pub reports: usize,
    /// The models in the last report written.
    pub models: Vec<String>,
}

/// Watches `study_path` until `stop` is set (or after one pass with `once`).
pub fn watch(
    study_path: &Path,
    output: &Path,
    options: &WatchOptions,
    stop: &AtomicBool,
    progress: &mut dyn Progress,
) -> Result<WatchSummary, WatchError> {
    let mut state = State::default();
    let mut first = true;
    loop {
        let study = match study::load(study_path) {
            Ok(s) => s,
            Err(e) if first => return Err(e.into()),
            Err(e) => {
                state.say(
                    progress,
                    format!("watch: the study does not load now; the report stays as it was: {e}"),
                );
                wait(options, stop);
                if stop.load(Ordering::SeqCst) {
                    return Ok(state.summary);
                }
                continue;
            }
        };
        let network = super::Network::new(&options.run);
        let study = match super::expand_revisions(&study, &network, progress) {
            Ok(s) => s,
            Err(e) if options.once => {
                return Err(WatchError::Run {
                    path: output.into(),
                    source: e,
                })
            }
            Err(e) => {
                state.say(progress, format!("watch: {}", chain(&e)));
                study
            }
        };
        let ready = state.ready(&study, progress);
        if ready.is_empty() && options.once {
            return Err(WatchError::NothingReady);
        }
        let pass = if first || options.once {
            // one report over everything ready now
            vec![ready.clone()]
        } else {
            state.increments(&ready, progress)
        };
        for models in pass {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            match report(&study, models, output, options, progress) {
                Ok(names) => {
                    state.done = names.iter().cloned().collect();
                    state.summary.reports += 1;
                    state.summary.models = names;
                }
                Err(e) if options.once => {
                    return Err(WatchError::Run {
                        path: output.into(),
                        source: e,
                    })
                }
                Err(e) => {
                    progress.line(&format!("watch: the report stays as it was: {}", chain(&e)))
                }
            }
        }
        first = false;
        if options.once {
            return Ok(state.summary);
        }
        wait(options, stop);
        if stop.load(Ordering::SeqCst) {
            progress.line("watch: stopped");
            return Ok(state.summary);
        }
    }
}

/// What the watch has seen so far.
#[derive(Default)]
struct State {
    /// Models in the current report.
    done: BTreeSet<String>,
    /// Messages already shown (a waiting checkpoint is named once per reason).
    said: BTreeSet<String>,
    summary: WatchSummary,
}

impl State {
    fn say(&mut self, progress: &mut dyn Progress, msg: String) {
        if self.said.insert(msg.clone()) {
            progress.line(&msg);
        }
    }

    /// The study's models whose files are complete now.
    fn ready(&mut self, study: &Study, progress: &mut dyn Progress) -> Vec<ModelEntry> {
        let mut out = Vec::new();
        for m in &study.models {
            let Some(path) = &m.path else {
                out.push(m.clone());
                continue;
            };
            let root = m.root.as_deref();
            match crate::models::completeness::check(path, root) {
                Ok(()) => out.push(m.clone()),
                Err(why) => self.say(
                    progress,
                    format!(
                        "watch: {} is not complete ({why}); skipped until it is",
                        m.name
                    ),
                ),
            }
        }
        out
    }

    /// One model list per new checkpoint (each adds one to the last), or
    /// one list without the checkpoints that are gone.
    fn increments(
        &mut self,
        ready: &[ModelEntry],
        progress: &mut dyn Progress,
    ) -> Vec<Vec<ModelEntry>> {
        let names: BTreeSet<&String> = ready.iter().map(|m| &m.name).collect();
        let gone: Vec<String> = self
            .done
            .iter()
            .filter(|n| !names.contains(n))
            .cloned()
            .collect();
        for g in &gone {
            progress.line(&format!(
                "watch: {g} is gone (its folder or revision disappeared); the next report leaves it out"
            ));
            self.done.remove(g);
        }
        let mut included: BTreeSet<String> = self.done.clone();
        let mut lists = Vec::new();
        for m in ready.iter().filter(|m| !self.done.contains(&m.name)) {
            progress.line(&format!(
                "watch: new checkpoint {}{}",
                m.name,
                m.step.map(|s| format!(" (step {s})")).unwrap_or_default()
            ));
            included.insert(m.name.clone());
            lists.push(
                ready
                    .iter()
                    .filter(|r| included.contains(&r.name))
                    .cloned()
                    .collect(),
            );
        }
        if lists.is_empty() && !gone.is_empty() {
            lists.push(ready.to_vec());
        }
        lists
    }
}

/// One report over `models`; without the fit when it cannot be made yet.
fn report(
    study: &Study,
    models: Vec<ModelEntry>,
    output: &Path,
    options: &WatchOptions,
    progress: &mut dyn Progress,
) -> Result<Vec<String>, RunError> {
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    let mut s = study.clone();
    s.models = models;
    let result = match super::run(&s, output, &options.run, progress) {
        Err(RunError::Fit { target, source }) => {
            progress.line(&format!(
                "watch: no fit of `{target}` yet ({source}); writing the report without it"
            ));
            s.fit = None;
            super::run(&s, output, &options.run, progress)
        }
        other => other,
    };
    let summary = result?;
    progress.line(&format!(
        "watch: report {} ({} checkpoint(s): {})",
        summary.report_dir.display(),
        names.len(),
        shorten(&names)
    ));
    Ok(names)
}

fn shorten(names: &[String]) -> String {
    match names.len() {
        0..=6 => names.join(", "),
        n => format!(
            "{}, …, {}",
            names[..3].join(", "),
            names[n - 2..].join(", ")
        ),
    }
}

/// Sleeps for the interval in short slices, returning early on `stop`.
fn wait(options: &WatchOptions, stop: &AtomicBool) {
    let slice = Duration::from_millis(50);
    let mut left = options.interval;
    while !left.is_zero() && !stop.load(Ordering::SeqCst) {
        let d = left.min(slice);
        std::thread::sleep(d);
        left -= d;
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(s) = cause {
        msg.push_str(&format!(": {s}"));
        cause = s.source();
    }
    msg
}
