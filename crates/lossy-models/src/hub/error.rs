//! What can go wrong talking to the hub, each with a message that says what
//! to do about it. No variant carries the token.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Env(#[from] super::env::EnvError),
    #[error("{what}: access denied (HTTP {status}){hint}")]
    Unauthorized {
        what: String,
        status: u16,
        hint: &'static str,
    },
    #[error("{what}: not found on {endpoint} (HTTP 404); check the id, revision and file name")]
    NotFound { what: String, endpoint: String },
    #[error("{what}: the server answered HTTP {status}{}{retried}", wait_note(*.retry_after))]
    Status {
        what: String,
        status: u16,
        retried: String,
        /// The server's `Retry-After`, in seconds (429 and 503 answers).
        retry_after: Option<u64>,
    },
    #[error("{what}: {detail}{retried}")]
    Network {
        what: String,
        detail: String,
        retried: String,
    },
    #[error("{what}: the download stopped after {got} of {expected} bytes{retried}")]
    Truncated {
        what: String,
        got: u64,
        expected: u64,
        retried: String,
    },
    #[error("{what}: the downloaded file has {kind} {got}, but the hub announced {expected}")]
    Corrupt {
        what: String,
        kind: &'static str,
        got: String,
        expected: String,
    },
    #[error("{what}: unreadable answer from the hub: {detail}")]
    Response { what: String, detail: String },
    #[error("{what} is not in the cache {cache}, and lossy is offline (HF_HUB_OFFLINE or --offline); run once with network access")]
    Offline { what: String, cache: PathBuf },
    #[error("listing {what} needs the hub, and lossy is offline (HF_HUB_OFFLINE or --offline): a revision pattern cannot be expanded from the cache; list the revisions by name, or run once online")]
    OfflineListing { what: String },
    #[error("{what} is not allowed: it must be {rule}")]
    BadName { what: String, rule: &'static str },
    #[error("cache file {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl HubError {
    /// Failures that another attempt may cure; after the last attempt they
    /// mean "the hub could not be used", and a cached copy may stand in.
    pub fn is_transient(&self) -> bool {
        match self {
            // A server that asks for a longer pause than lossy waits is not retried.
            HubError::Status {
                retry_after: Some(s),
                ..
            } if *s > MAX_RETRY_AFTER_S => false,
            HubError::Status { status, .. } => *status == 429 || *status >= 500,
            HubError::Network { .. } | HubError::Truncated { .. } => true,
            _ => false,
        }
    }

    /// How long the server asked to wait before the next attempt.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            HubError::Status {
                retry_after: Some(s),
                ..
            } => Some(std::time::Duration::from_secs(*s)),
            _ => None,
        }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        let note = if attempts > 1 {
            format!(" (gave up after {attempts} attempts)")
        } else {
            String::new()
        };
        match &mut self {
            HubError::Status { retried, .. }
            | HubError::Network { retried, .. }
            | HubError::Truncated { retried, .. } => *retried = note,
            _ => {}
        }
        self
    }
}

/// The longest `Retry-After` lossy honours by waiting (seconds); a longer one
/// ends the download with the server's request in the message.
pub const MAX_RETRY_AFTER_S: u64 = 60;

fn wait_note(retry_after: Option<u64>) -> String {
    match retry_after {
        Some(s) if s > MAX_RETRY_AFTER_S => {
            format!(" and asked to wait {s} s before retrying; try again later")
        }
        _ => String::new(),
    }
}
