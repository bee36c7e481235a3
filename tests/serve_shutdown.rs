//! Shutdown and overload through the real server: SIGTERM drains what is in
//! flight, refuses new requests with 503, settles what the drain timeout cut off
//! (dead-lettered, or logged with its event id), and exits 0; a full router
//! answers per-entry throttling errors and 429, never dropping what it accepted.

mod serve_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use serve_support::{FAST_RETRIES, Peer, Server, http_rule, read_lines};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_deliveries_and_refuses_new_requests() {
    let peer = Peer::start(Arc::new(|_, _| (200, vec![], Duration::from_millis(200)))).await;
    let rule = http_rule("r", "app", &peer.url(), "{}", "dlq.jsonl");
    let config = format!("{FAST_RETRIES}[targets]\nmax_concurrency = 2\n");
    let mut server = Server::start(&[("r.json", &rule)], &config);
    let mut ids = HashSet::new();
    for i in 0..10 {
        ids.insert(server.put("app", json!({ "i": i })).await);
    }
    server.sigterm();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = server
        .aws(
            "PutEvents",
            json!({"Entries": [{"Source": "app", "DetailType": "t", "Detail": "{}"}]}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["__type"], "ServiceUnavailableException");
    let (status, _) = server.get("/readyz").await;
    assert_eq!(status, 503);
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(20)));
    assert!(exit.success(), "{exit:?}");
    let delivered: HashSet<String> = peer
        .bodies()
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        delivered, ids,
        "every accepted event was delivered before exit"
    );
    assert!(read_lines(&server.path("dlq.jsonl")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_timeout_dead_letters_what_is_left() {
    let peer = Peer::always(500).await;
    let rule = http_rule("r", "app", &peer.url(), "{}", "dlq.jsonl");
    // Long backoff: the retries are still waiting when the drain times out.
    let config =
        "[retry]\nbase_delay_ms = 30000\nmax_delay_ms = 60000\n[server]\ndrain_timeout_ms = 300\n";
    let mut server = Server::start(&[("r.json", &rule)], config);
    let mut ids = HashSet::new();
    for i in 0..5 {
        ids.insert(server.put("app", json!({ "i": i })).await);
    }
    peer.wait_for(5).await;
    server.sigterm();
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(15)));
    assert!(exit.success(), "{exit:?}");
    let records = read_lines(&server.path("dlq.jsonl"));
    let dead: HashSet<String> = records
        .iter()
        .map(|r| r["event"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(dead, ids);
    for r in &records {
        assert_eq!(r["attributes"]["ERROR_CODE"], "ShutdownBeforeDelivery");
        let message = r["attributes"]["ERROR_MESSAGE"].as_str().unwrap();
        assert!(message.contains("last error HttpError"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_dlq_what_is_left_is_logged_with_its_event_id() {
    let peer = Peer::always(500).await;
    let rule = json!([{
        "Name": "r",
        "EventPattern": { "source": ["app"] },
        "Targets": [{ "Id": "hook", "Http": { "Endpoint": peer.url() } }]
    }])
    .to_string();
    let config =
        "[retry]\nbase_delay_ms = 30000\nmax_delay_ms = 60000\n[server]\ndrain_timeout_ms = 200\n";
    let mut server = Server::start(&[("r.json", &rule)], config);
    let id = server.put("app", json!({})).await;
    peer.wait_for(1).await;
    server.sigterm();
    let exit = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(15)));
    assert!(exit.success());
    let log = server.stderr_text();
    let line = log
        .lines()
        .find(|l| l.contains("not delivered"))
        .unwrap_or_else(|| panic!("no 'not delivered' line in:\n{log}"));
    assert!(line.contains(&id), "{line}");
    assert!(
        line.contains("the server shut down before the delivery succeeded"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_router_throttles_entries_and_cloudevents() {
    let peer = Peer::start(Arc::new(|_, _| (200, vec![], Duration::from_secs(2)))).await;
    let rule = http_rule("r", "app", &peer.url(), "{}", "dlq.jsonl");
    let config = format!("{FAST_RETRIES}[router]\nmax_in_flight_events = 5\n");
    let server = Server::start(&[("r.json", &rule)], &config);
    let entries: Vec<Value> = (0..10)
        .map(|i| json!({"Source": "app", "DetailType": "t", "Detail": json!({"i": i}).to_string()}))
        .collect();
    let r = server.put_events(Value::Array(entries)).await;
    assert_eq!(r["FailedEntryCount"], 5, "{r}");
    let results = r["Entries"].as_array().unwrap();
    for e in &results[..5] {
        assert!(e["EventId"].is_string(), "{e}");
    }
    for e in &results[5..] {
        assert_eq!(e["ErrorCode"], "ThrottlingException", "{e}");
        assert_eq!(
            e["ErrorMessage"],
            "Rate exceeded: the router is at its in-flight limit; retry this entry"
        );
    }
    let response = reqwest::Client::new()
        .post(server.url("/cloudevents"))
        .header("content-type", "application/cloudevents+json")
        .body(json!({"specversion": "1.0", "id": "1", "source": "app", "type": "t"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    // Once the slow deliveries finish, there is room again and all five arrive.
    peer.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let id = server.put("app", json!({"after": true})).await;
    assert!(!id.is_empty());
    assert_eq!(
        server
            .metric(r#"switchyard_ingested_events_total{source="put_events",outcome="throttled"}"#)
            .await,
        5.0
    );
}
