//! Delivery through the real server to real loopback peers: retries and their
//! backoff, `Retry-After`, permanent failures, timeouts, closed connections,
//! dead-letter records, input shaping errors, bus hops, and file writes shared
//! by several rules.

mod serve_support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use serve_support::{FAST_RETRIES, Peer, Server, http_rule, read_lines, wait_for_lines};

const WAIT: Duration = Duration::from_secs(15);

fn attrs(record: &Value) -> &Value {
    &record["attributes"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_5xx_then_delivers() {
    let peer = Peer::start(Arc::new(|n, _| {
        (if n < 2 { 500 } else { 200 }, vec![], Duration::ZERO)
    }))
    .await;
    let rule = http_rule(
        "r",
        "app",
        &peer.url(),
        r#"{"MaximumRetryAttempts": 5}"#,
        "dlq.jsonl",
    );
    let server = Server::start(&[("r.json", &rule)], FAST_RETRIES);
    let id = server.put("app", json!({"n": 1})).await;
    peer.wait_for(3).await;
    assert_eq!(peer.count(), 3, "two failures and one success");
    let delivered: Value = serde_json::from_str(&peer.bodies()[2]).unwrap();
    assert_eq!(delivered["id"], id);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let labels = r#"{rule="r",target="hook"}"#;
    assert_eq!(
        server
            .metric(&format!("switchyard_invocations_total{labels}"))
            .await,
        3.0
    );
    assert_eq!(
        server
            .metric(&format!(
                "switchyard_retry_invocation_attempts_total{labels}"
            ))
            .await,
        2.0
    );
    assert_eq!(
        server
            .metric(&format!("switchyard_failed_invocations_total{labels}"))
            .await,
        0.0
    );
    assert!(read_lines(&server.path("dlq.jsonl")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_goes_to_the_dlq_at_once_with_status_and_body() {
    let peer = Peer::always(404).await;
    let rule = http_rule(
        "r",
        "app",
        &peer.url(),
        r#"{"MaximumRetryAttempts": 5}"#,
        "dlq.jsonl",
    );
    let server = Server::start(&[("r.json", &rule)], FAST_RETRIES);
    let id = server.put("app", json!({"n": 1})).await;
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    let r = &records[0];
    assert_eq!(peer.count(), 1, "a 404 is not retried");
    assert_eq!(attrs(r)["ERROR_CODE"], "HttpError");
    let message = attrs(r)["ERROR_MESSAGE"].as_str().unwrap();
    assert!(message.contains("404 Not Found"), "{message}");
    assert!(message.contains("peer says no"), "{message}");
    assert_eq!(attrs(r)["RETRY_ATTEMPTS"], 0);
    assert_eq!(attrs(r)["EXHAUSTED_RETRY_CONDITION"], Value::Null);
    assert_eq!(attrs(r)["TARGET_ID"], "hook");
    assert_eq!(
        attrs(r)["RULE_ARN"],
        "arn:aws:events:us-east-1:000000000000:rule/r"
    );
    assert_eq!(r["event"]["id"], id);
    let payload: Value = serde_json::from_str(r["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["detail"]["n"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_run_out_into_the_dlq() {
    let peer = Peer::always(503).await;
    let rule = http_rule(
        "r",
        "app",
        &peer.url(),
        r#"{"MaximumRetryAttempts": 2}"#,
        "dlq.jsonl",
    );
    let server = Server::start(&[("r.json", &rule)], FAST_RETRIES);
    server.put("app", json!({})).await;
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(peer.count(), 3, "the first attempt and two retries");
    assert_eq!(
        attrs(&records[0])["EXHAUSTED_RETRY_CONDITION"],
        "MaximumRetryAttempts"
    );
    assert_eq!(attrs(&records[0])["RETRY_ATTEMPTS"], 2);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let labels = r#"{rule="r",target="hook"}"#;
    assert_eq!(
        server
            .metric(&format!("switchyard_invocations_sent_to_dlq_total{labels}"))
            .await,
        1.0
    );
    assert_eq!(
        server
            .metric(&format!("switchyard_failed_invocations_total{labels}"))
            .await,
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let peer = Peer::start(Arc::new(|n, _| {
        if n == 0 {
            (429, vec![("retry-after", "1".to_string())], Duration::ZERO)
        } else {
            (200, vec![], Duration::ZERO)
        }
    }))
    .await;
    let rule = http_rule(
        "r",
        "app",
        &peer.url(),
        r#"{"MaximumRetryAttempts": 3}"#,
        "dlq.jsonl",
    );
    let server = Server::start(&[("r.json", &rule)], FAST_RETRIES);
    server.put("app", json!({})).await;
    peer.wait_for(2).await;
    let times: Vec<_> = peer
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times.len(), 2);
    let gap = times[1] - times[0];
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, before Retry-After: 1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_target_times_out_and_is_dead_lettered() {
    let peer = Peer::start(Arc::new(|_, _| (200, vec![], Duration::from_secs(3)))).await;
    let rule = http_rule(
        "r",
        "app",
        &peer.url(),
        r#"{"MaximumRetryAttempts": 1}"#,
        "dlq.jsonl",
    );
    let config = format!("{FAST_RETRIES}[targets]\nhttp_timeout_ms = 200\n");
    let server = Server::start(&[("r.json", &rule)], &config);
    server.put("app", json!({})).await;
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(attrs(&records[0])["ERROR_CODE"], "HttpTimeout");
    assert_eq!(attrs(&records[0])["RETRY_ATTEMPTS"], 1);
    assert!(
        attrs(&records[0])["ERROR_MESSAGE"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{}",
        records[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_connections_are_retried_then_dead_lettered() {
    // A peer that reads the request and closes the connection without answering.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut s = stream.unwrap();
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.flush();
            drop(s);
        }
    });
    let url = format!("http://{addr}/hook");
    let rule = http_rule(
        "r",
        "app",
        &url,
        r#"{"MaximumRetryAttempts": 2}"#,
        "dlq.jsonl",
    );
    let server = Server::start(&[("r.json", &rule)], FAST_RETRIES);
    server.put("app", json!({})).await;
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(
        attrs(&records[0])["ERROR_CODE"],
        "HttpRequestFailed",
        "{}",
        records[0]
    );
    assert_eq!(
        attrs(&records[0])["EXHAUSTED_RETRY_CONDITION"],
        "MaximumRetryAttempts"
    );
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_is_not_json_after_substitution_is_dead_lettered() {
    let rule = json!([{
        "Name": "shape",
        "EventPattern": { "source": ["app"] },
        "Targets": [{
            "Id": "out",
            "File": { "Path": "out.jsonl" },
            "InputTransformer": {
                "InputPathsMap": { "v": "$.detail.v" },
                "InputTemplate": "{\"v\": \"<v>\"}"
            },
            "DeadLetterConfig": { "File": { "Path": "dlq.jsonl" } }
        }]
    }])
    .to_string();
    let server = Server::start(&[("r.json", &rule)], FAST_RETRIES);
    // A quote inside a value placed inside a JSON string breaks the JSON, as on AWS.
    server.put("app", json!({"v": "say \"hi\""})).await;
    server.put("app", json!({"v": "fine"})).await;
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(
        attrs(&records[0])["ERROR_CODE"],
        "InputTransformerInvalidJson"
    );
    let out = wait_for_lines(&server.path("out.jsonl"), 1, WAIT).await;
    assert_eq!(out[0], json!({"v": "fine"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buses_that_feed_each_other_stop_at_the_hop_limit() {
    let rules = json!([
        {
            "Name": "a-to-b", "EventBusName": "a",
            "EventPattern": { "source": ["loop"] },
            "Targets": [{ "Id": "to-b", "EventBus": { "Name": "b" },
                          "DeadLetterConfig": { "File": { "Path": "dlq.jsonl" } } }]
        },
        {
            "Name": "b-to-a", "EventBusName": "b",
            "EventPattern": { "source": ["loop"] },
            "Targets": [
                { "Id": "to-a", "EventBus": { "Name": "a" },
                  "DeadLetterConfig": { "File": { "Path": "dlq.jsonl" } } },
                { "Id": "seen", "File": { "Path": "seen.jsonl" } }
            ]
        }
    ])
    .to_string();
    let config = format!("{FAST_RETRIES}[router]\nmax_hops = 4\n");
    let server = Server::start(&[("loop.json", &rules)], &config);
    let r = server
        .put_events(
            json!([{ "Source": "loop", "DetailType": "t", "Detail": "{}", "EventBusName": "a" }]),
        )
        .await;
    let id = r["Entries"][0]["EventId"].as_str().unwrap().to_string();
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(attrs(&records[0])["ERROR_CODE"], "HopLimitExceeded");
    assert_eq!(records[0]["event"]["id"], id);
    // a->b (1), b->a (2), a->b (3), b->a (4); the fifth hop is refused.
    // The "seen" line of hop 3 is a delivery of its own, which may land after
    // the dead letter of hop 5: wait for it rather than race it.
    wait_for_lines(&server.path("seen.jsonl"), 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = read_lines(&server.path("seen.jsonl"));
    assert_eq!(seen.len(), 2, "bus b saw the event after hops 1 and 3");
    assert!(seen.iter().all(|e| e["id"] == id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_writing_one_file_never_interleave_lines() {
    let rule = |name: &str| {
        json!({
            "Name": name,
            "EventPattern": { "source": ["app"] },
            "Targets": [{ "Id": "f", "File": { "Path": "shared.jsonl" } }]
        })
    };
    let rules = json!([rule("one"), rule("two"), rule("three")]).to_string();
    let server = Server::start(&[("r.json", &rules)], FAST_RETRIES);
    let big = "x".repeat(20_000);
    let mut ids = Vec::new();
    for i in 0..40 {
        let entries: Vec<Value> = (0..5)
            .map(|j| json!({"Source": "app", "DetailType": "t", "Detail": json!({"i": i, "j": j, "pad": big}).to_string()}))
            .collect();
        let r = server.put_events(Value::Array(entries)).await;
        for e in r["Entries"].as_array().unwrap() {
            ids.push(e["EventId"].as_str().unwrap().to_string());
        }
    }
    let lines = wait_for_lines(&server.path("shared.jsonl"), 600, WAIT).await;
    assert_eq!(
        lines.len(),
        600,
        "200 events x 3 rules, every line whole JSON"
    );
    for id in &ids {
        assert_eq!(lines.iter().filter(|l| l["id"] == id.as_str()).count(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints() {
    let rule = http_rule("r", "app", "http://127.0.0.1:9/x", "{}", "dlq.jsonl");
    let server = Server::start(&[("r.json", &rule), ("broken.json", "{")], FAST_RETRIES);
    assert_eq!(server.get("/healthz").await, (200, "ok\n".into()));
    let (status, text) = server.get("/readyz").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("ready (rules generation 1)"), "{text}");
    let (status, text) = server.get("/status/rules").await;
    assert_eq!(status, 200);
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["generation"], 1);
    assert_eq!(s["rules"], 1);
    let broken = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("broken.json"))
        .unwrap();
    assert_eq!(broken["state"], "error");
    let (status, text) = server.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("# TYPE switchyard_matched_events counter"),
        "{text}"
    );
    assert!(text.contains("switchyard_rules_generation 1"), "{text}");
    // An event for a bus no rule listens on is accepted and counted.
    let r = server
        .put_events(
            json!([{ "Source": "x", "DetailType": "t", "Detail": "{}", "EventBusName": "nobody" }]),
        )
        .await;
    assert_eq!(r["FailedEntryCount"], 0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server
            .metric(r#"switchyard_events_without_rules_total{bus="nobody"}"#)
            .await,
        1.0
    );
    assert_eq!(
        server
            .metric(r#"switchyard_ingested_events_total{source="put_events",outcome="accepted"}"#)
            .await,
        1.0
    );
    let (status, _) = server.get("/nope").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_matcher_refuses_goes_to_the_router_dlq() {
    // Two fields of one array element: matching must search the array.
    let rule = json!([{
        "Name": "arrays",
        "EventPattern": { "detail": { "items": { "sku": ["a"], "qty": [1] } } },
        "Targets": [{ "Id": "f", "File": { "Path": "out.jsonl" } }]
    }])
    .to_string();
    let config = "[limits]\nmax_search_steps = 3\n[router]\ndead_letter = { File = { path = \"router-dlq.jsonl\" } }\n";
    let server = Server::start(&[("r.json", &rule)], config);
    let items: Vec<Value> = (0..20).map(|i| json!({"sku": "a", "qty": i})).collect();
    let id = server.put("app", json!({ "items": items })).await;
    let records = wait_for_lines(&server.path("router-dlq.jsonl"), 1, WAIT).await;
    let a = attrs(&records[0]);
    assert_eq!(a["ERROR_CODE"], "MatcherRefused");
    assert_eq!(a["RULE_ARN"], Value::Null);
    let message = a["ERROR_MESSAGE"].as_str().unwrap();
    assert!(
        message.contains("steps of the array-consistency search (limit 3)"),
        "{message}"
    );
    assert_eq!(records[0]["event"]["id"], id);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        server
            .metric(r#"switchyard_router_errors_total{reason="MatcherRefused"}"#)
            .await,
        1.0
    );
    assert!(read_lines(&server.path("out.jsonl")).is_empty());
    assert!(
        server.stderr_text().contains(&id),
        "the refusal is logged with the event id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shaped_payload_that_is_not_an_event_cannot_go_on_a_bus() {
    let rules = json!([
        {
            "Name": "forward", "EventPattern": { "source": ["app"] },
            "Targets": [{ "Id": "to-other", "EventBus": { "Name": "other" }, "Input": "[1, 2]",
                          "DeadLetterConfig": { "File": { "Path": "dlq.jsonl" } } }]
        },
        {
            "Name": "land", "EventBusName": "other", "EventPattern": { "source": [{"prefix": ""}] },
            "Targets": [{ "Id": "f", "File": { "Path": "landed.jsonl" } }]
        }
    ])
    .to_string();
    let server = Server::start(&[("r.json", &rules)], FAST_RETRIES);
    server.put("app", json!({})).await;
    let records = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(attrs(&records[0])["ERROR_CODE"], "PayloadNotAnEvent");
    assert_eq!(
        attrs(&records[0])["ERROR_MESSAGE"],
        "the shaped input cannot be put on bus other: an event must be a JSON object, found array"
    );
    assert!(read_lines(&server.path("landed.jsonl")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_target_without_brokers_dead_letters_with_the_reason() {
    let rule = json!([{
        "Name": "k",
        "EventPattern": { "source": ["app"] },
        "Targets": [{
            "Id": "topic",
            "Kafka": { "Topic": "orders" },
            "DeadLetterConfig": { "File": { "Path": "dlq.jsonl" } }
        }]
    }])
    .to_string();
    let server = Server::start(&[("k.json", &rule)], FAST_RETRIES);
    let id = server.put("app", json!({})).await;
    let dlq = wait_for_lines(&server.path("dlq.jsonl"), 1, WAIT).await;
    assert_eq!(dlq[0]["event"]["id"], id);
    assert_eq!(attrs(&dlq[0])["ERROR_CODE"], "TargetUnavailable");
    assert_eq!(
        attrs(&dlq[0])["ERROR_MESSAGE"],
        "Kafka targets need a cluster: set kafka.brokers in the config or --kafka-brokers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_down_holds_at_most_max_pending_and_never_throttles_the_others() {
    let down = Peer::always(500).await;
    let rules = json!([
        {
            "Name": "down",
            "EventPattern": { "source": ["app"] },
            "Targets": [{
                "Id": "hook",
                "Http": { "Endpoint": down.url() },
                "DeadLetterConfig": { "File": { "Path": "dlq.jsonl" } }
            }]
        },
        {
            "Name": "audit",
            "EventPattern": { "source": ["app"] },
            "Targets": [{ "Id": "file", "File": { "Path": "out.jsonl" } }]
        }
    ])
    .to_string();
    // Retries a minute apart: the ten the dead target holds stay held. Batches
    // of five fit the audit target's own bound of ten however its last batch
    // settles.
    let config = "[router]\nmax_in_flight_events = 20\n[targets]\nmax_pending = 10\n\
                  [retry]\nbase_delay_ms = 60000\nmax_delay_ms = 60000\n";
    let server = Server::start(&[("r.json", &rules)], config);
    for batch in 0..12 {
        let entries: Vec<Value> = (0..5)
            .map(|n| {
                json!({"Source": "app", "DetailType": "t", "Detail": json!({"n": batch * 5 + n}).to_string()})
            })
            .collect();
        let answer = server.put_events(Value::Array(entries)).await;
        assert_eq!(answer["FailedEntryCount"], 0, "batch {batch}: {answer}");
        // Let the audit deliveries of this batch settle before the next.
        wait_for_lines(&server.path("out.jsonl"), (batch + 1) * 5, WAIT).await;
    }
    assert_eq!(read_lines(&server.path("out.jsonl")).len(), 60);
    let refused = wait_for_lines(&server.path("dlq.jsonl"), 50, WAIT).await;
    assert_eq!(refused.len(), 50, "all but the ten the target holds");
    for r in &refused {
        assert_eq!(attrs(r)["ERROR_CODE"], "TargetBacklogFull");
        assert_eq!(
            attrs(r)["ERROR_MESSAGE"],
            "10 deliveries to this target are already queued, in progress or waiting to retry \
             (targets.max_pending); not attempted"
        );
        assert_eq!(attrs(r)["RETRY_ATTEMPTS"], 0);
    }
    let labels = r#"{rule="down",target="hook"}"#;
    assert_eq!(
        server
            .metric(&format!("switchyard_throttled_rules_total{labels}"))
            .await,
        50.0
    );
    // Full jitter may retry one of the ten early; no other event is attempted.
    let attempted: std::collections::BTreeSet<String> = down
        .bodies()
        .iter()
        .map(|b| serde_json::from_str::<Value>(b).unwrap()["id"].to_string())
        .collect();
    assert_eq!(attempted.len(), 10, "only the ten held were attempted");
    assert!(
        refused
            .iter()
            .all(|r| !attempted.contains(&r["event"]["id"].to_string()))
    );
}
