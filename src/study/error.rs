//! Study errors: every message names the file, line and column.

use std::fmt;
use std::path::PathBuf;

/// A place in the study file (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl From<serde_saphyr::Location> for Pos {
    fn from(l: serde_saphyr::Location) -> Self {
        Pos {
            line: l.line(),
            column: l.column(),
        }
    }
}

/// One problem found while checking a study.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub pos: Option<Pos>,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("cannot read study file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The YAML does not parse, or a value has the wrong type.
    #[error("{}", Located(.path, .pos, .message))]
    Syntax {
        path: PathBuf,
        pos: Option<Pos>,
        message: String,
    },
    /// A key the study format does not have.
    #[error("{}", Located(.path, .pos, &unknown_key_message(.key, .section, .suggestion.as_deref())))]
    UnknownKey {
        path: PathBuf,
        pos: Option<Pos>,
        key: String,
        section: String,
        suggestion: Option<String>,
    },
    /// The study parses but does not make sense (every problem is listed).
    #[error("{}", problems_message(.path, .problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn unknown_key_message(key: &str, section: &str, suggestion: Option<&str>) -> String {
    let mut msg = format!("unknown key `{key}` in {section}");
    if let Some(s) = suggestion {
        msg.push_str(&format!("; did you mean `{s}`?"));
    }
    msg
}

fn problems_message(path: &std::path::Path, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| Located(path, &p.pos, &p.message).to_string())
        .collect();
    format!(
        "invalid study ({} problem{}):\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        lines.join("\n")
    )
}

/// `file:line:column: message`, like a compiler.
struct Located<'a>(&'a std::path::Path, &'a Option<Pos>, &'a str);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.0.display(),
                p.line,
                p.column,
                self.2
            ),
            None => write!(f, "{}: {}", self.0.display(), self.2),
        }
    }
}
