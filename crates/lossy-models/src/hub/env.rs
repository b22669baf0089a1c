//! Hub settings from the environment, as the Python ecosystem reads them:
//! `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_CACHE`, `HF_HUB_OFFLINE`, `HF_TOKEN`
//! (or the token file `huggingface-cli login` writes), plus lossy's own
//! `LOSSY_HTTP_TIMEOUT` (seconds per connect or read) and `LOSSY_HTTP_RETRIES`.
//!
//! The token is a [`Token`]: it has no `Display`, and its `Debug` prints
//! `Token(***)`, so it cannot end up in a log line, an error or a report.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A hub access token. Never printed; only sent as an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Option<Self> {
        let s: String = secret.into();
        let s = s.trim();
        (!s.is_empty()).then(|| Token(s.to_string()))
    }

    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where the hub is, where its cache lives, and how to talk to it.
#[derive(Clone, Debug)]
pub struct HubEnv {
    /// Base URL without a trailing slash (`HF_ENDPOINT`, default `https://huggingface.co`).
    pub endpoint: String,
    /// The hub cache folder holding `models--org--name/` (`HF_HUB_CACHE`, else `$HF_HOME/hub`).
    pub cache: PathBuf,
    /// Use the cache only (`HF_HUB_OFFLINE=1` or `--offline`).
    pub offline: bool,
    pub token: Option<Token>,
    /// Per connect and per read (`LOSSY_HTTP_TIMEOUT`, default 30 s).
    pub timeout: Duration,
    /// Further attempts after a transient failure (`LOSSY_HTTP_RETRIES`, default 3).
    pub retries: u32,
    /// First backoff; doubled on each retry.
    pub backoff: Duration,
}

/// A value of an environment variable that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?}: {reason}")]
pub struct EnvError {
    pub name: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl HubEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads settings through `var` (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let home = var("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            let cache = var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| Path::new(&h).join(".cache")));
            cache
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("huggingface")
        });
        let cache = var("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join("hub"));
        let offline = match var("HF_HUB_OFFLINE") {
            None => false,
            Some(v) => parse_bool(&v).ok_or(EnvError {
                name: "HF_HUB_OFFLINE",
                value: v,
                reason: "expected 1/0, true/false, yes/no or on/off",
            })?,
        };
        let token = var("HF_TOKEN").and_then(Token::new).or_else(|| {
            let path = var("HF_TOKEN_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join("token"));
            std::fs::read_to_string(path).ok().and_then(Token::new)
        });
        let seconds = |name: &'static str, default: u64| -> Result<u64, EnvError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| EnvError {
                    name,
                    value: v,
                    reason: "expected a whole number",
                }),
            }
        };
        Ok(Self {
            endpoint: var("HF_ENDPOINT")
                .unwrap_or_else(|| "https://huggingface.co".into())
                .trim_end_matches('/')
                .to_string(),
            cache,
            offline,
            token,
            timeout: Duration::from_secs(seconds("LOSSY_HTTP_TIMEOUT", 30)?.max(1)),
            retries: seconds("LOSSY_HTTP_RETRIES", 3)? as u32,
            backoff: Duration::from_millis(500),
        })
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<HubEnv, EnvError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HubEnv::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_python_layout() {
        let e = env(&[("HOME", "/home/u")]).unwrap();
        assert_eq!(e.endpoint, "https://huggingface.co");
        assert_eq!(e.cache, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert!(!e.offline && e.token.is_none());
        let e = env(&[("HOME", "/home/u"), ("HF_HOME", "/data/hf")]).unwrap();
        assert_eq!(e.cache, PathBuf::from("/data/hf/hub"));
        let e = env(&[
            ("HF_HOME", "/data/hf"),
            ("HF_HUB_CACHE", "/fast/hub"),
            ("HF_ENDPOINT", "http://127.0.0.1:9/"),
            ("HF_HUB_OFFLINE", "1"),
        ])
        .unwrap();
        assert_eq!(e.cache, PathBuf::from("/fast/hub"));
        assert_eq!(e.endpoint, "http://127.0.0.1:9");
        assert!(e.offline);
    }

    #[test]
    fn token_from_variable_or_file_is_never_printed() {
        let e = env(&[("HF_TOKEN", "hf_secret123")]).unwrap();
        let t = e.token.clone().unwrap();
        assert_eq!(t.bearer(), "Bearer hf_secret123");
        assert!(!format!("{e:?}").contains("secret123"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "hf_fromfile\n").unwrap();
        let e = env(&[("HF_HOME", dir.path().to_str().unwrap())]).unwrap();
        assert_eq!(e.token.unwrap().bearer(), "Bearer hf_fromfile");
    }

    #[test]
    fn bad_values_are_named() {
        let err = env(&[("HF_HUB_OFFLINE", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("HF_HUB_OFFLINE"), "{err}");
        assert!(env(&[("LOSSY_HTTP_TIMEOUT", "fast")])
            .unwrap_err()
            .to_string()
            .contains("LOSSY_HTTP_TIMEOUT"));
    }
}
