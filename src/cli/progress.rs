//! What `lossy run` shows while it works. On a terminal: a bar for the
//! study (models done) and one for the model being run (tokens, documents,
//! tokens per second, ETA and phase), with progress lines printed above them
//! (indicatif). Elsewhere (CI, Slurm logs): the same as plain lines, at most
//! one per model and phase plus one every [`PLAIN_EVERY`]. Quiet: nothing.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lossy::pipeline::{ModelStatus, Phase, Progress};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a plain progress line is printed during a model's pass.
const PLAIN_EVERY: Duration = Duration::from_secs(10);

pub enum Reporter {
    Quiet,
    Bars(Bars),
    Plain(Plain),
}

impl Reporter {
    /// Bars when stderr is a terminal, plain lines otherwise, or nothing.
    pub fn new(quiet: bool) -> Self {
        if quiet {
            Reporter::Quiet
        } else if std::io::stderr().is_terminal() {
            Reporter::Bars(Bars::new())
        } else {
            Reporter::Plain(Plain::default())
        }
    }

    /// Removes the bars (before the final report line).
    pub fn finish(&mut self) {
        if let Reporter::Bars(b) = self {
            b.study.finish_and_clear();
            b.model.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn line(&mut self, msg: &str) {
        match self {
            Reporter::Quiet => {}
            Reporter::Bars(b) => {
                // above the bars; a hidden target (no terminal after all) drops it
                if b.multi.println(msg).is_err() {
                    eprintln!("{msg}");
                }
            }
            Reporter::Plain(_) => eprintln!("{msg}"),
        }
    }

    fn model(&mut self, status: &ModelStatus) {
        match self {
            Reporter::Quiet => {}
            Reporter::Bars(b) => b.update(status),
            Reporter::Plain(p) => p.update(status),
        }
    }
}

pub struct Bars {
    multi: MultiProgress,
    study: ProgressBar,
    model: ProgressBar,
}

impl Bars {
    fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let study = multi.add(ProgressBar::new(0));
        study.set_style(
            ProgressStyle::with_template("study  [{bar:30}] {pos}/{len} models  {elapsed}  {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        let model = multi.add(ProgressBar::new(0));
        model.set_style(
            ProgressStyle::with_template(
                "{prefix:<12} [{bar:30}] {human_pos}/{human_len} tokens  {per_sec}  ETA {eta}  {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        Self {
            multi,
            study,
            model,
        }
    }

    fn update(&mut self, s: &ModelStatus) {
        self.study.set_length(s.models as u64);
        let done = s.index + usize::from(s.phase == Phase::Done);
        self.study.set_position(done as u64);
        self.study.set_message(s.name.to_string());
        if s.phase != Phase::Running || s.pass.tokens == 0 {
            // a new model (or phase before its pass): restart the rate and ETA
            self.model.reset();
        }
        self.model.set_prefix(s.name.to_string());
        self.model.set_length(s.pass.tokens_total as u64);
        self.model.set_position(s.pass.tokens as u64);
        self.model.set_message(format!(
            "{}/{} documents  {}",
            s.pass.documents,
            s.pass.documents_total,
            s.phase.name()
        ));
    }
}

#[derive(Default)]
pub struct Plain {
    last: Option<(String, Phase, Instant)>,
}

impl Plain {
    fn update(&mut self, s: &ModelStatus) {
        let now = Instant::now();
        let due = match &self.last {
            Some((name, phase, at)) => {
                name != s.name || *phase != s.phase || now.duration_since(*at) >= PLAIN_EVERY
            }
            None => true,
        };
        if !due || s.phase == Phase::Done {
            return;
        }
        self.last = Some((s.name.to_string(), s.phase, now));
        eprintln!("  {}", plain_line(s));
    }
}

/// One plain progress line (no leading `[i/n]`: that marks a finished model).
pub fn plain_line(s: &ModelStatus) -> String {
    let p = &s.pass;
    let head = format!(
        "model {}/{} {}: {}",
        s.index + 1,
        s.models,
        s.name,
        s.phase.name()
    );
    if s.phase != Phase::Running || p.tokens == 0 {
        return head;
    }
    let rate = p.tokens as f64 / p.seconds.max(1e-9);
    let eta = (p.tokens_total - p.tokens) as f64 / rate.max(1e-9);
    format!(
        "{head}, {}/{} documents, {}/{} tokens, {rate:.0} tok/s, ETA {eta:.0}s",
        p.documents, p.documents_total, p.tokens, p.tokens_total
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lossy::features::PassProgress;

    #[test]
    fn a_plain_line_gives_counts_rate_and_eta() {
        let pass = PassProgress {
            documents: 8,
            documents_total: 32,
            tokens: 1000,
            tokens_total: 4000,
            forward_seconds: 1.5,
            estimating_seconds: 0.5,
            seconds: 2.0,
        };
        let status = ModelStatus {
            name: "smollm2",
            index: 0,
            models: 2,
            phase: Phase::Running,
            pass,
        };
        assert_eq!(
            plain_line(&status),
            "model 1/2 smollm2: forward + estimating, 8/32 documents, 1000/4000 tokens, 500 tok/s, ETA 6s"
        );
        let loading = ModelStatus {
            phase: Phase::Loading,
            pass: PassProgress::default(),
            ..status
        };
        assert_eq!(plain_line(&loading), "model 1/2 smollm2: loading");
    }
}
