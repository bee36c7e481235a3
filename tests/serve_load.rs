//! A bounded load test on loopback: many concurrent PutEvents clients overload a
//! small router; every entry is either answered with an error or delivered, and
//! the counts add up. Then the same with SIGTERM in the middle of the load.

mod serve_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serve_support::{Peer, Respond, Server, read_lines, wait_for_lines};

const CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 60;
const ENTRIES: usize = 10;

fn rules(peer: &Peer) -> String {
    json!([{
        "Name": "load",
        "EventPattern": { "source": ["load"] },
        "Targets": [
            { "Id": "file", "File": { "Path": "out.jsonl" } },
            { "Id": "hook", "Http": { "Endpoint": peer.url() } }
        ]
    }])
    .to_string()
}

/// Small bounds so that the load overflows them.
const CONFIG: &str = "[router]\nmax_in_flight_events = 300\n[targets]\nqueue_size = 64\nmax_concurrency = 8\n[retry]\nbase_delay_ms = 10\nmax_delay_ms = 50\n[file]\nfsync = \"os\"\n";

#[derive(Default)]
struct Tally {
    /// Entries in the requests the clients sent.
    sent: usize,
    accepted: Vec<String>,
    throttled: usize,
    unavailable: usize,
    other: Vec<String>,
}

/// Runs the clients until each sent its requests or `stop_after` passed.
async fn load(server: &Server, stop_after: Duration) -> Tally {
    let url = server.url("/");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut tally = Tally::default();
            for r in 0..REQUESTS_PER_CLIENT {
                if started.elapsed() > stop_after {
                    break;
                }
                let entries: Vec<Value> = (0..ENTRIES)
                    .map(|e| json!({"Source": "load", "DetailType": "t", "Detail": json!({"c": c, "r": r, "e": e}).to_string()}))
                    .collect();
                tally.sent += ENTRIES;
                let response = client
                    .post(&url)
                    .header("x-amz-target", "AWSEvents.PutEvents")
                    .header("content-type", "application/x-amz-json-1.1")
                    .body(json!({ "Entries": entries }).to_string())
                    .send()
                    .await;
                let Ok(response) = response else {
                    // The listener is gone (after shutdown): nothing was accepted.
                    tally.unavailable += ENTRIES;
                    break;
                };
                let status = response.status().as_u16();
                let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
                if status == 503 {
                    tally.unavailable += ENTRIES;
                    continue;
                }
                assert_eq!(status, 200, "{body}");
                for e in body["Entries"].as_array().unwrap() {
                    match (e["EventId"].as_str(), e["ErrorCode"].as_str()) {
                        (Some(id), _) => tally.accepted.push(id.to_string()),
                        (None, Some("ThrottlingException")) => tally.throttled += 1,
                        (None, Some("ServiceUnavailable")) => tally.unavailable += 1,
                        _ => tally.other.push(e.to_string()),
                    }
                }
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        let t = t.await.unwrap();
        total.sent += t.sent;
        total.accepted.extend(t.accepted);
        total.throttled += t.throttled;
        total.unavailable += t.unavailable;
        total.other.extend(t.other);
    }
    total
}

fn slow_peer() -> Respond {
    Arc::new(|_, _| (200, vec![], Duration::from_millis(2)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_answers_or_delivers_every_entry() {
    let peer = Peer::start(slow_peer()).await;
    let server = Server::start(&[("load.json", &rules(&peer))], CONFIG);
    let tally = load(&server, Duration::from_secs(60)).await;
    let sent = CLIENTS * REQUESTS_PER_CLIENT * ENTRIES;
    assert!(
        tally.other.is_empty(),
        "unexpected answers: {:?}",
        &tally.other[..tally.other.len().min(3)]
    );
    assert_eq!(tally.sent, sent, "every client sent all its requests");
    assert_eq!(
        tally.accepted.len() + tally.throttled,
        sent,
        "every entry was answered"
    );
    assert!(
        tally.throttled > 0,
        "the load must overflow the router to test anything"
    );
    assert!(!tally.accepted.is_empty());
    let accepted: HashSet<&String> = tally.accepted.iter().collect();
    let lines = wait_for_lines(
        &server.path("out.jsonl"),
        accepted.len(),
        Duration::from_secs(60),
    )
    .await;
    let written: HashSet<String> = lines
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        lines.len(),
        accepted.len(),
        "each accepted event written once"
    );
    assert!(accepted.iter().all(|id| written.contains(*id)));
    for _ in 0..3000 {
        if peer.count() >= accepted.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        peer.count(),
        accepted.len(),
        "each accepted event posted once"
    );
    println!(
        "load: {sent} entries sent, {} accepted and delivered to both targets, {} throttled",
        accepted.len(),
        tally.throttled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_load_loses_nothing_accepted() {
    let peer = Peer::start(slow_peer()).await;
    let config = format!("{CONFIG}[server]\ndrain_timeout_ms = 20000\n");
    let mut server = Server::start(&[("load.json", &rules(&peer))], &config);
    let term_at = Duration::from_millis(400);
    let (tally, _) = tokio::join!(load(&server, Duration::from_secs(60)), async {
        tokio::time::sleep(term_at).await;
        server.sigterm();
    });
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(40)));
    assert!(exit.success(), "{exit:?}");
    let sent = CLIENTS * REQUESTS_PER_CLIENT * ENTRIES;
    assert!(
        tally.other.is_empty(),
        "unexpected answers: {:?}",
        &tally.other[..tally.other.len().min(3)]
    );
    assert!(tally.unavailable > 0, "some requests came after SIGTERM");
    assert!(tally.sent <= sent);
    assert_eq!(
        tally.accepted.len() + tally.throttled + tally.unavailable,
        tally.sent,
        "every entry sent was answered"
    );
    let lines = read_lines(&server.path("out.jsonl"));
    let written: HashSet<String> = lines
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lines.len(), written.len(), "no event written twice");
    let accepted: HashSet<&String> = tally.accepted.iter().collect();
    assert!(
        written.iter().all(|id| accepted.contains(id)),
        "only accepted events are written"
    );
    let missing: Vec<&String> = tally
        .accepted
        .iter()
        .filter(|id| !written.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} accepted events not written, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert_eq!(
        peer.count(),
        tally.accepted.len(),
        "each accepted event posted once before exit"
    );
    println!(
        "sigterm mid-load: {} accepted (all delivered), {} throttled, {} refused while stopping",
        tally.accepted.len(),
        tally.throttled,
        tally.unavailable
    );
}
