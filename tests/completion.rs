//! The delivery-completion handle, end to end in-process: an event submitted with
//! `Completion::new` resolves only once every target it matched has delivered it
//! or settled it, with the worst outcome. This is the seam a Kafka source
//! commits offsets on.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use serde_json::json;
use switchyard::config::Config;
use switchyard::event::{EnvelopeFields, Event, build_envelope};
use switchyard::metrics::Metrics;
use switchyard::pattern::EventLimits;
use switchyard::router::completion::{Completion, CompletionReceiver, Outcome};
use switchyard::router::routes::{Routes, RoutesBuilder};
use switchyard::router::{Ingest, RouterSettings};
use switchyard::rules::{DirectoryState, LoadOptions, RuleSet};
use switchyard::targets::TargetFactory;
use tokio_util::sync::CancellationToken;

struct Rig {
    dir: tempfile::TempDir,
    ingest: Ingest,
    _shutdown: CancellationToken,
}

async fn rig(rules: serde_json::Value) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let rules_dir = dir.path().join("rules");
    std::fs::create_dir(&rules_dir).unwrap();
    // Paths in rules are relative to the working directory: make them absolute.
    let text = rules
        .to_string()
        .replace("@DIR@", dir.path().to_str().unwrap());
    std::fs::write(rules_dir.join("r.json"), text).unwrap();
    let (state, problems) = DirectoryState::check(LoadOptions::new(&rules_dir)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let limits = EventLimits::default();
    let set = Arc::new(RuleSet::build(1, state.rules(), limits));

    let mut config = Config::default();
    config.retry.base_delay_ms = 5;
    config.retry.max_delay_ms = 10;
    let metrics = Arc::new(Metrics::new());
    let routes = Arc::new(ArcSwap::from_pointee(Routes::empty()));
    let ingest = Ingest::new(
        RouterSettings {
            max_in_flight: 16,
            max_hops: 4,
            limits,
            transform_threads: 1,
        },
        metrics.clone(),
        routes.clone(),
    );
    let shutdown = CancellationToken::new();
    let builder = RoutesBuilder::new(
        TargetFactory::new(&config, ingest.clone()),
        config,
        metrics,
        shutdown.clone(),
    );
    routes.store(Arc::new(builder.build(set)));
    Rig {
        dir,
        ingest,
        _shutdown: shutdown,
    }
}

impl Rig {
    fn submit(&self, source: &str) -> CompletionReceiver {
        let permit = self.ingest.admit().unwrap();
        let id = uuid::Uuid::new_v4().to_string();
        let json = build_envelope(&EnvelopeFields {
            id: &id,
            detail_type: "t",
            source,
            account: "1",
            time: "2024-01-01T00:00:00Z",
            region: "r",
            resources: &[],
            detail: b"{}",
            extension: None,
        });
        let event = Event {
            id,
            bus: "default".into(),
            source: source.into(),
            detail_type: "t".into(),
            json: json.into(),
            received: SystemTime::now(),
            received_at: Instant::now(),
            hops: 0,
        };
        let (completion, rx) = Completion::new(Some(permit));
        self.ingest.submit(Arc::new(event), completion);
        rx
    }

    fn lines(&self, file: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join(file))
            .unwrap_or_default()
            .lines()
            .count()
    }
}

async fn outcome(rx: CompletionReceiver) -> Outcome {
    tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .expect("the completion resolves")
        .expect("the completion is not dropped")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_delivered_after_every_target_wrote() {
    let rig = rig(json!([{
        "Name": "two-files",
        "EventPattern": { "source": ["app"] },
        "Targets": [
            { "Id": "a", "File": { "Path": "@DIR@/a.jsonl" } },
            { "Id": "b", "File": { "Path": "@DIR@/b.jsonl" } }
        ]
    }]))
    .await;
    let rx = rig.submit("app");
    assert_eq!(outcome(rx).await, Outcome::Delivered);
    assert_eq!(
        (rig.lines("a.jsonl"), rig.lines("b.jsonl")),
        (1, 1),
        "both written before it resolved"
    );
    assert_eq!(
        rig.ingest.in_flight(),
        0,
        "the admission permit was released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_event_resolves_at_once() {
    let rig = rig(json!([{
        "Name": "r", "EventPattern": { "source": ["app"] },
        "Targets": [{ "Id": "a", "File": { "Path": "@DIR@/a.jsonl" } }]
    }]))
    .await;
    assert_eq!(outcome(rig.submit("other")).await, Outcome::Delivered);
    assert_eq!(rig.lines("a.jsonl"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_resolves_dead_lettered_or_given_up() {
    // Port 9 (discard) on loopback refuses connections: a retryable failure.
    let rig = rig(json!([
        {
            "Name": "with-dlq", "EventPattern": { "source": ["dlq"] },
            "Targets": [{ "Id": "h", "Http": { "Endpoint": "http://127.0.0.1:9/x" },
                          "RetryPolicy": { "MaximumRetryAttempts": 1 },
                          "DeadLetterConfig": { "File": { "Path": "@DIR@/dlq.jsonl" } } },
                        { "Id": "ok", "File": { "Path": "@DIR@/ok.jsonl" } }]
        },
        {
            "Name": "without-dlq", "EventPattern": { "source": ["nodlq"] },
            "Targets": [{ "Id": "h", "Http": { "Endpoint": "http://127.0.0.1:9/x" },
                          "RetryPolicy": { "MaximumRetryAttempts": 0 } }]
        }
    ]))
    .await;
    assert_eq!(
        outcome(rig.submit("dlq")).await,
        Outcome::DeadLettered,
        "the worst of delivered and dead-lettered"
    );
    assert_eq!((rig.lines("dlq.jsonl"), rig.lines("ok.jsonl")), (1, 1));
    assert_eq!(outcome(rig.submit("nodlq")).await, Outcome::GivenUp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_event_resolves_after_the_next_hop() {
    let rig = rig(json!([
        {
            "Name": "forward", "EventPattern": { "source": ["app"] },
            "Targets": [{ "Id": "bus", "EventBus": { "Name": "second" } }]
        },
        {
            "Name": "land", "EventBusName": "second", "EventPattern": { "source": ["app"] },
            "Targets": [{ "Id": "f", "File": { "Path": "@DIR@/landed.jsonl" } }]
        }
    ]))
    .await;
    assert_eq!(outcome(rig.submit("app")).await, Outcome::Delivered);
    assert_eq!(
        rig.lines("landed.jsonl"),
        1,
        "the second bus's delivery happened first"
    );
}
