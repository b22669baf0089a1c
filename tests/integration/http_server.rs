//! A real HTTP/1.1 server on 127.0.0.1 for the network tests: it serves the
//! hub routes lossy uses (`/api/{models,datasets}/<id>/revision/<rev>` and
//! `/<datasets/>?<id>/resolve/<sha>/<file>`), counts and records every request,
//! and can misbehave on demand (status codes with or without `Retry-After`,
//! a stalled answer, a body cut short or stalled, redirects to another path
//! or server) for the first N requests to a path.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub authorization: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Fault {
    Status(u16),
    /// Wait this long before answering (longer than the client's timeout).
    Stall(Duration),
    /// Announce the full length, send only this many bytes, then close.
    Truncate(usize),
    /// Answer with this status and these headers (a 429 with `Retry-After`).
    StatusWith(u16, Vec<(String, String)>),
    /// Send the headers and this many bytes, then stall (a body slower than the timeout).
    StallBody(usize, Duration),
}

#[derive(Clone)]
struct Route {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    /// Required `Authorization` value; others get 401.
    token: Option<String>,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    faults: HashMap<String, Vec<Fault>>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct HubServer {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl HubServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Self { endpoint, state }
    }

    /// Serves `body` at `path` (exact, percent-encoded as the client sends it).
    pub fn route(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) {
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.state.lock().unwrap().routes.insert(
            path.into(),
            Route {
                status: 200,
                body,
                headers,
                token: None,
            },
        );
    }

    /// Like [`route`], but answers 401 unless `Authorization: Bearer <token>` is sent.
    pub fn gated_route(&self, path: &str, body: Vec<u8>, token: &str) {
        self.state.lock().unwrap().routes.insert(
            path.into(),
            Route {
                status: 200,
                body,
                headers: vec![],
                token: Some(format!("Bearer {token}")),
            },
        );
    }

    /// A repository's revision route: `{"sha": ..., "siblings": [...]}`.
    pub fn revision(&self, kind: &str, id: &str, revision: &str, sha: &str, files: &[&str]) {
        let siblings: Vec<String> = files
            .iter()
            .map(|f| format!("{{\"rfilename\": \"{f}\"}}"))
            .collect();
        let body = format!(
            "{{\"id\": \"{id}\", \"sha\": \"{sha}\", \"siblings\": [{}]}}",
            siblings.join(", ")
        );
        self.route(
            &format!("/api/{kind}/{id}/revision/{revision}"),
            body.into_bytes(),
            &[("content-type", "application/json")],
        );
    }

    /// A file at a commit, with the hub's ETag (the content's sha256, as for LFS files).
    pub fn file(&self, prefix: &str, id: &str, sha: &str, name: &str, body: Vec<u8>) {
        let etag = format!("\"{}\"", lossy::io::hash::sha256_hex(&body));
        self.route(
            &format!("/{prefix}{id}/resolve/{sha}/{name}"),
            body,
            &[("x-linked-etag", &etag), ("etag", &etag)],
        );
    }

    /// Answers `path` with a 302 to `location` (another path or another server), with `headers`.
    pub fn redirect(&self, path: &str, location: &str, headers: &[(&str, &str)]) {
        let mut headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        headers.push(("location".into(), location.into()));
        self.state.lock().unwrap().routes.insert(
            path.into(),
            Route {
                status: 302,
                body: Vec::new(),
                headers,
                token: None,
            },
        );
    }

    /// Misbehave on the next requests to `path`, one fault per request.
    pub fn faults(&self, path: &str, faults: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(path.into(), faults);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().seen.len()
    }

    /// A hub client pointed at this server, with its own cache, a 1 s timeout,
    /// `retries` retries and a 5 ms backoff.
    pub fn hub(
        &self,
        cache: &std::path::Path,
        token: Option<&str>,
        offline: bool,
        retries: u32,
    ) -> lossy::hub::Hub {
        let (endpoint, cache) = (self.endpoint.clone(), cache.to_string_lossy().into_owned());
        let token = token.map(str::to_string);
        let mut env = lossy::hub::HubEnv::from_vars(|k| match k {
            "HF_ENDPOINT" => Some(endpoint.clone()),
            "HF_HUB_CACHE" => Some(cache.clone()),
            "HF_HOME" => Some("/nonexistent-hf-home".into()),
            "HF_TOKEN" => token.clone(),
            "HF_HUB_OFFLINE" => offline.then(|| "1".into()),
            "LOSSY_HTTP_TIMEOUT" => Some("1".into()),
            "LOSSY_HTTP_RETRIES" => Some(retries.to_string()),
            _ => None,
        })
        .unwrap();
        env.backoff = Duration::from_millis(5);
        lossy::hub::Hub::new(env).unwrap()
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut authorization = None;
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "authorization" => authorization = Some(v.trim().to_string()),
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        let mut sink = vec![0u8; length];
        let _ = reader.read_exact(&mut sink);
        let (route, fault) = {
            let mut s = state.lock().unwrap();
            s.seen.push(Seen {
                path: path.clone(),
                authorization: authorization.clone(),
            });
            let fault = s
                .faults
                .get_mut(&path)
                .and_then(|f| (!f.is_empty()).then(|| f.remove(0)));
            (s.routes.get(&path).cloned(), fault)
        };
        let write = |stream: &mut TcpStream,
                     status: u16,
                     headers: &[(String, String)],
                     body: &[u8],
                     send: usize| {
            let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body[..send.min(body.len())]);
            let _ = stream.flush();
        };
        match (fault, route) {
            (Some(Fault::Status(code)), _) => write(
                &mut stream,
                code,
                &[],
                b"{\"error\": \"fault\"}",
                usize::MAX,
            ),
            (Some(Fault::Stall(d)), _) => {
                std::thread::sleep(d);
                return;
            }
            (Some(Fault::Truncate(n)), Some(r)) => {
                write(&mut stream, 200, &r.headers, &r.body, n);
                return;
            }
            (Some(Fault::StatusWith(code, headers)), _) => write(
                &mut stream,
                code,
                &headers,
                b"{\"error\": \"fault\"}",
                usize::MAX,
            ),
            (Some(Fault::StallBody(n, d)), Some(r)) => {
                write(&mut stream, 200, &r.headers, &r.body, n);
                std::thread::sleep(d);
                return;
            }
            (_, None) => write(
                &mut stream,
                404,
                &[],
                b"{\"error\": \"Repository not found\"}",
                usize::MAX,
            ),
            (_, Some(r)) if r.token.is_some() && r.token != authorization => write(
                &mut stream,
                401,
                &[],
                b"{\"error\": \"Access to this repository is restricted\"}",
                usize::MAX,
            ),
            (_, Some(r)) => write(&mut stream, r.status, &r.headers, &r.body, usize::MAX),
        }
    }
}
