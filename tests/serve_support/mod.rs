//! Runs the real `switchyard serve` binary for integration tests: a temporary
//! directory with rule files and a config, the listening address read from
//! standard error, clients for PutEvents and the admin endpoints, and small
//! loopback HTTP peers that behave (or fail) on purpose.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Server {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    child: Child,
    pub stderr: Arc<Mutex<String>>,
    pub stdout: Arc<Mutex<String>>,
    client: reqwest::Client,
}

impl Server {
    /// Starts `serve` with these rule files (name, JSON text) and config (TOML).
    pub fn start(rules: &[(&str, &str)], config: &str) -> Server {
        Server::start_in(tempfile::tempdir().unwrap(), rules, config)
    }

    /// Like `start`, in a directory prepared already (e.g. with `plugins/`).
    pub fn start_in(dir: tempfile::TempDir, rules: &[(&str, &str)], config: &str) -> Server {
        let rules_dir = dir.path().join("rules");
        std::fs::create_dir(&rules_dir).unwrap();
        for (name, text) in rules {
            std::fs::write(rules_dir.join(name), text).unwrap();
        }
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--rules", "rules", "--listen", "127.0.0.1:0"])
            .args(["--config", "config.toml"])
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            // One plugin compile cache for every test run of this checkout.
            .env(
                "XDG_CACHE_HOME",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-cache"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting switchyard serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let err_pipe = child.stderr.take().unwrap();
        let err_buf = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("switchyard listening on http://") {
                    let _ = tx.send(addr.to_string());
                }
                let mut b = err_buf.lock().unwrap();
                b.push_str(&line);
                b.push('\n');
            }
        });
        let mut out_pipe = child.stdout.take().unwrap();
        let out_buf = stdout.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = out_pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                out_buf
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        // Generous: a server with many plugins compiles them all (debug build,
        // cranelift) before listening, on a machine busy with other tests.
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "switchyard serve did not start; stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        };
        // reqwest is built without a default TLS provider (see targets::http).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Server {
            dir,
            addr,
            child,
            stderr,
            stdout,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// An AWS JSON 1.1 call: (status, body).
    pub async fn aws(&self, operation: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url("/"))
            .header("x-amz-target", format!("AWSEvents.{operation}"))
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await
            .expect("the server answers");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// PutEvents with these entries; the response body.
    pub async fn put_events(&self, entries: Value) -> Value {
        let (status, body) = self.aws("PutEvents", json!({ "Entries": entries })).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// PutEvents of one entry with this source and detail; its event id.
    pub async fn put(&self, source: &str, detail: Value) -> String {
        let r = self
            .put_events(
                json!([{ "Source": source, "DetailType": "test", "Detail": detail.to_string() }]),
            )
            .await;
        r["Entries"][0]["EventId"]
            .as_str()
            .unwrap_or_else(|| panic!("not accepted: {r}"))
            .to_string()
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The value of one metric line (`name{labels}`), 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let (_, text) = self.get("/metrics").await;
        text.lines()
            .find_map(|l| {
                l.strip_prefix(series)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .map_or(0.0, |v| v.trim().parse().unwrap())
    }

    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (at most `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "switchyard did not exit in {timeout:?}; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// JSON lines of a file (none when it does not exist yet).
pub fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// Waits until the file holds at least `n` lines; returns them.
pub async fn wait_for_lines(path: &Path, n: usize, timeout: Duration) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let lines = read_lines(path);
        if lines.len() >= n {
            return lines;
        }
        if Instant::now() > deadline {
            panic!(
                "{} holds {} lines, expected {n} within {timeout:?}",
                path.display(),
                lines.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An HTTP peer on loopback: every request is recorded, and `respond` decides the
/// answer from the request's sequence number (0-based) and body.
pub struct Peer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<(Instant, String)>>>,
}

pub type Respond =
    Arc<dyn Fn(usize, &str) -> (u16, Vec<(&'static str, String)>, Duration) + Send + Sync>;

impl Peer {
    pub async fn start(respond: Respond) -> Peer {
        let requests: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let recorded = requests.clone();
        let app = axum::Router::new().fallback(move |body: String| {
            let recorded = recorded.clone();
            let respond = respond.clone();
            async move {
                let n = {
                    let mut r = recorded.lock().unwrap();
                    r.push((Instant::now(), body.clone()));
                    r.len() - 1
                };
                let (status, headers, delay) = respond(n, &body);
                tokio::time::sleep(delay).await;
                let mut response = axum::response::Response::builder().status(status);
                for (k, v) in headers {
                    response = response.header(k, v);
                }
                response
                    .body(axum::body::Body::from("peer says no"))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer { addr, requests }
    }

    /// Always this status, at once.
    pub async fn always(status: u16) -> Peer {
        Peer::start(Arc::new(move |_, _| (status, vec![], Duration::ZERO))).await
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Waits (at most 10 s) until the peer has seen `n` requests; fails loudly
    /// otherwise.
    pub async fn wait_for(&self, n: usize) {
        for _ in 0..1000 {
            if self.count() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the peer saw {} requests, expected {n}", self.count());
    }

    pub fn bodies(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }
}

/// A rule file with one HTTP target and a file DLQ.
pub fn http_rule(name: &str, source: &str, url: &str, retry: &str, dlq: &str) -> String {
    json!([{
        "Name": name,
        "EventPattern": { "source": [source] },
        "Targets": [{
            "Id": "hook",
            "Http": { "Endpoint": url },
            "RetryPolicy": serde_json::from_str::<Value>(retry).unwrap(),
            "DeadLetterConfig": { "File": { "Path": dlq } }
        }]
    }])
    .to_string()
}

/// Fast retries for tests.
pub const FAST_RETRIES: &str = "[retry]\nbase_delay_ms = 10\nmax_delay_ms = 50\n";
