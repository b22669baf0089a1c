//! The HTTP client behind every hub call: a blocking reqwest client (rustls
//! with the ring provider) with timeouts, retries with exponential backoff on
//! transient failures (connection errors, timeouts, 429 and 5xx, truncated
//! bodies; a `Retry-After` of up to a minute is waited out instead, a longer
//! one ends the attempt with its request in the message), redirects followed by hand so the `Authorization` header never
//! leaves the hub's origin, and downloads that stream to a temporary file,
//! check their length and sha256, and only then move into place.

use super::env::{HubEnv, Token};
use super::error::HubError;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, AUTHORIZATION, LOCATION};
use reqwest::Url;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MAX_REDIRECTS: usize = 5;

pub struct Http {
    client: Client,
    origin: String,
    token: Option<Token>,
    retries: u32,
    backoff: Duration,
}

/// A file fetched to a temporary path, not yet in the cache.
pub struct Downloaded {
    pub temp: PathBuf,
    pub sha256: String,
    /// The ETag (for LFS files, the `X-Linked-Etag`: the content's sha256).
    pub etag: Option<String>,
    /// The content matched the ETag (a sha256 for LFS files, the git blob
    /// sha1 for others); false when the ETag was neither, or missing.
    pub verified: bool,
}

impl Http {
    pub fn new(env: &HubEnv) -> Result<Self, HubError> {
        install_crypto_provider();
        let client = Client::builder()
            .user_agent(concat!("lossy/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(env.timeout)
            .timeout(env.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HubError::Network {
                what: "starting the HTTP client".into(),
                detail: e.to_string(),
                retried: String::new(),
            })?;
        let origin = Url::parse(&env.endpoint)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        Ok(Self {
            client,
            origin,
            token: env.token.clone(),
            retries: env.retries,
            backoff: env.backoff,
        })
    }

    /// GETs `url` and returns the body as text (JSON API answers).
    pub fn get_text(&self, url: &str, what: &str) -> Result<String, HubError> {
        self.retrying(what, || {
            let resp = self.get(url, what)?;
            resp.text().map_err(|e| network(what, &e))
        })
    }

    /// Downloads `url` into a temporary file in `dir`, calling `progress`
    /// with (bytes so far, total if announced) as data arrives.
    pub fn download(
        &self,
        url: &str,
        dir: &Path,
        what: &str,
        progress: &dyn Fn(u64, Option<u64>),
    ) -> Result<Downloaded, HubError> {
        std::fs::create_dir_all(dir).map_err(|source| HubError::Io {
            path: dir.into(),
            source,
        })?;
        self.retrying(what, || {
            let (mut resp, etag) = self.get_with_etag(url, what)?;
            let expected = resp.content_length();
            let temp = dir.join(format!(
                ".lossy-{}-{}.incomplete",
                std::process::id(),
                unique()
            ));
            let result = stream_to(&mut resp, expected, &temp, what, progress);
            let (bytes, sha256) = match result {
                Ok(v) => v,
                Err(e) => {
                    let _ = std::fs::remove_file(&temp);
                    return Err(e);
                }
            };
            let fail = |e: HubError| {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            };
            if let Some(expected) = expected.filter(|&n| n != bytes) {
                return fail(HubError::Truncated {
                    what: what.into(),
                    got: bytes,
                    expected,
                    retried: String::new(),
                });
            }
            let etag = etag.map(|e| e.to_ascii_lowercase());
            let got = match etag.as_deref() {
                Some(e) if is_sha256(e) => Some(("sha256", sha256.clone())),
                Some(e) if is_sha1(e) => match git_blob_sha1(&temp, bytes) {
                    Ok(sha1) => Some(("git blob sha1", sha1)),
                    Err(source) => {
                        return fail(HubError::Io {
                            path: temp.clone(),
                            source,
                        })
                    }
                },
                _ => None,
            };
            if let (Some((kind, got)), Some(expected)) = (&got, &etag) {
                if got != expected {
                    return fail(HubError::Corrupt {
                        what: what.into(),
                        kind,
                        got: got.clone(),
                        expected: expected.clone(),
                    });
                }
            }
            Ok(Downloaded {
                temp: temp.clone(),
                sha256,
                verified: got.is_some(),
                etag,
            })
        })
    }

    fn retrying<T>(
        &self,
        what: &str,
        mut attempt: impl FnMut() -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        let mut wait = self.backoff;
        for n in 0..=self.retries {
            match attempt() {
                Ok(v) => return Ok(v),
                Err(e) if e.is_transient() && n < self.retries => {
                    // The server's `Retry-After` (429, 503) wins over the backoff.
                    std::thread::sleep(e.retry_after().unwrap_or(wait));
                    wait *= 2;
                }
                Err(e) => return Err(e.with_attempts(n + 1)),
            }
        }
        unreachable!("the loop returns on its last attempt ({what})")
    }

    fn get(&self, url: &str, what: &str) -> Result<Response, HubError> {
        self.get_with_etag(url, what).map(|(r, _)| r)
    }

    /// Follows redirects by hand, remembering the first ETag seen (the hub
    /// puts `X-Linked-Etag` on the redirect to its CDN).
    fn get_with_etag(&self, url: &str, what: &str) -> Result<(Response, Option<String>), HubError> {
        let mut url = Url::parse(url).map_err(|e| HubError::Response {
            what: what.into(),
            detail: format!("bad URL {url}: {e}"),
        })?;
        let mut etag = None;
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.client.get(url.clone());
            if let Some(t) = self
                .token
                .as_ref()
                .filter(|_| url.origin().ascii_serialization() == self.origin)
            {
                req = req.header(AUTHORIZATION, t.bearer());
            }
            let resp = req.send().map_err(|e| network(what, &e))?;
            etag = etag.or_else(|| header_etag(resp.headers()));
            let status = resp.status();
            if status.is_redirection() {
                let location = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                url = url.join(&location).map_err(|e| HubError::Response {
                    what: what.into(),
                    detail: format!("bad redirect `{location}`: {e}"),
                })?;
                continue;
            }
            return match status.as_u16() {
                200..=299 => Ok((resp, etag)),
                401 | 403 => Err(HubError::Unauthorized {
                    what: what.into(),
                    status: status.as_u16(),
                    hint: self.auth_hint(),
                }),
                404 => Err(HubError::NotFound {
                    what: what.into(),
                    endpoint: self.origin.clone(),
                }),
                code => Err(HubError::Status {
                    what: what.into(),
                    status: code,
                    retried: String::new(),
                    retry_after: retry_after_s(resp.headers()),
                }),
            };
        }
        Err(HubError::Response {
            what: what.into(),
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    fn auth_hint(&self) -> &'static str {
        if self.token.is_some() {
            "; the token was refused: check that it is valid and that you accepted the model's terms on its hub page"
        } else {
            "; gated or private repositories need a token: set HF_TOKEN or run `huggingface-cli login`"
        }
    }
}

fn stream_to(
    resp: &mut Response,
    expected: Option<u64>,
    temp: &Path,
    what: &str,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<(u64, String), HubError> {
    let io = |source| HubError::Io {
        path: temp.into(),
        source,
    };
    let mut file = std::fs::File::create(temp).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // A body cut short surfaces as a read error; report it as truncation when the
                // length is known, unless the read timed out.
                return Err(match expected.filter(|_| !is_timeout(&e)) {
                    Some(expected) => HubError::Truncated {
                        what: what.into(),
                        got: bytes,
                        expected,
                        retried: String::new(),
                    },
                    None if is_timeout(&e) => HubError::Network {
                        what: what.into(),
                        detail: format!(
                            "timed out after {bytes} bytes (LOSSY_HTTP_TIMEOUT sets the limit in seconds)"
                        ),
                        retried: String::new(),
                    },
                    None => HubError::Network {
                        what: what.into(),
                        detail: root_cause(&e),
                        retried: String::new(),
                    },
                });
            }
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n]).map_err(io)?;
        bytes += n as u64;
        progress(bytes, expected);
    }
    file.sync_all().map_err(io)?;
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// Whether a body read failed by timing out (reqwest wraps its error in the io::Error).
fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the hub and is ignored).
fn retry_after_s(h: &HeaderMap) -> Option<u64> {
    h.get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn header_etag(h: &HeaderMap) -> Option<String> {
    let v = h
        .get("x-linked-etag")
        .or_else(|| h.get(reqwest::header::ETAG))?
        .to_str()
        .ok()?;
    Some(v.trim_start_matches("W/").trim_matches('"').to_string())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_sha1(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Git's object id of a file: sha1 over `blob <len>\0` and the content (the
/// hub's ETag for files not stored in LFS).
fn git_blob_sha1(path: &Path, len: u64) -> std::io::Result<String> {
    use sha1::{Digest as _, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {len}\0").as_bytes());
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

fn network(what: &str, e: &reqwest::Error) -> HubError {
    let detail = if e.is_timeout() {
        "timed out (LOSSY_HTTP_TIMEOUT sets the limit in seconds)".to_string()
    } else if e.is_connect() {
        format!("cannot connect: {}", root_cause(e))
    } else {
        root_cause(e)
    };
    HubError::Network {
        what: what.into(),
        detail,
        retried: String::new(),
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s = format!("{s}: {c}");
        cur = c.source();
    }
    s
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// rustls needs one process-wide crypto provider; lossy uses ring.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
