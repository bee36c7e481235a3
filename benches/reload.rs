//! Reloading a rules directory of 10,000 rules (250 files of 40): read, validate,
//! build the snapshot and swap it in. Also shows that matching does not stall
//! while a reload runs: a matching thread's worst latency with and without reloads.
//!
//! `cargo bench --bench reload`

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::{Criterion, criterion_group, criterion_main};
use switchyard::pattern::EventLimits;
use switchyard::rules::{DirectoryState, LoadOptions, RuleSet};

const FILES: usize = 250;
const RULES_PER_FILE: usize = 40;

fn rule(file: usize, i: usize) -> String {
    format!(
        r#"{{
    "Name": "team-{file}-rule-{i}",
    "Description": "Orders of shop {file}, kind {i}",
    "EventPattern": {{
      "source": ["com.example.shop-{file}"],
      "detail-type": ["OrderPlaced", "OrderUpdated"],
      "detail": {{
        "kind": ["kind-{i}"],
        "total": [{{"numeric": [">", {i}, "<=", 10000]}}],
        "region": [{{"prefix": "eu-"}}, {{"anything-but": ["eu-west-3"]}}]
      }}
    }},
    "Targets": [
      {{
        "Id": "kafka",
        "Kafka": {{"Topic": "orders-{file}", "KeyPath": "$.detail.order-id"}},
        "InputTransformer": {{
          "InputPathsMap": {{"order": "$.detail.order-id", "total": "$.detail.total"}},
          "InputTemplate": "{{\"order\": <order>, \"total\": <total>, \"rule\": \"<aws.events.rule-name>\"}}"
        }},
        "RetryPolicy": {{"MaximumRetryAttempts": 5}},
        "DeadLetterConfig": {{"File": {{"Path": "dlq/orders-{file}.jsonl"}}}}
      }}
    ]
  }}"#
    )
}

fn write_rules(dir: &Path) {
    for file in 0..FILES {
        let rules: Vec<String> = (0..RULES_PER_FILE).map(|i| rule(file, i)).collect();
        std::fs::write(
            dir.join(format!("team-{file:03}.json")),
            format!("[\n  {}\n]\n", rules.join(",\n  ")),
        )
        .unwrap();
    }
}

/// A full reload as SIGHUP does it: every file read and validated, a new snapshot
/// built and swapped in.
fn full_reload(dir: &Path, current: &ArcSwap<RuleSet>) -> usize {
    let mut state = DirectoryState::new(LoadOptions::new(dir));
    state.refresh(true).unwrap();
    assert!(state.problems().is_empty(), "{:?}", &state.problems()[..1]);
    let generation = current.load().generation() + 1;
    let set = RuleSet::build(generation, state.rules(), EventLimits::default());
    let rules = set.rules().len();
    current.store(Arc::new(set));
    rules
}

const EVENT: &[u8] = br#"{"source": "com.example.shop-7", "detail-type": "OrderPlaced",
  "detail": {"kind": "kind-3", "total": 120, "region": "eu-central-1", "order-id": "o-1"}}"#;

/// Worst and median latency of matching one event while `busy` runs on another thread.
fn matching_latency(
    current: &Arc<ArcSwap<RuleSet>>,
    busy: impl FnOnce(),
) -> (Duration, Duration, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (current, stop) = (current.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let snapshot = current.load();
                let matched = snapshot.matching_rules("default", EVENT).unwrap().len();
                assert_eq!(matched, 1);
                latencies.push(started.elapsed());
            }
            latencies
        })
    };
    busy();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = thread.join().unwrap();
    latencies.sort();
    (
        *latencies.last().unwrap(),
        latencies[latencies.len() / 2],
        latencies.len(),
    )
}

/// The figures the issue asks for, printed plainly.
fn print_timings(dir: &Path, current: &Arc<ArcSwap<RuleSet>>, runs: usize) {
    let started = Instant::now();
    for _ in 0..runs {
        full_reload(dir, current);
    }
    println!(
        "full reload of {} rules in {FILES} files (read, validate, build, swap): {:.0} ms on average over {runs} runs",
        FILES * RULES_PER_FILE,
        started.elapsed().as_secs_f64() * 1000.0 / runs as f64
    );

    let (worst, median, n) =
        matching_latency(current, || std::thread::sleep(Duration::from_secs(2)));
    println!("matching with no reload: {n} events, median {median:?}, worst {worst:?}");
    let (worst, median, n) = matching_latency(current, || {
        for _ in 0..runs {
            full_reload(dir, current);
        }
    });
    println!("matching during {runs} full reloads: {n} events, median {median:?}, worst {worst:?}");
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let current = Arc::new(ArcSwap::from_pointee(RuleSet::empty()));
    assert_eq!(full_reload(dir.path(), &current), FILES * RULES_PER_FILE);

    // `cargo test --all-targets` runs this once as a smoke test: skip the timings.
    let benching = std::env::args().any(|a| a == "--bench");
    let runs = 5;
    if benching {
        print_timings(dir.path(), &current, runs);
    }

    let mut group = c.benchmark_group("reload");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("full reload, 10000 rules in 250 files", |b| {
        b.iter(|| full_reload(dir.path(), &current))
    });
    let mut state = DirectoryState::new(LoadOptions::new(dir.path()));
    state.refresh(true).unwrap();
    let one = dir.path().join("team-000.json");
    let original = std::fs::read_to_string(&one).unwrap();
    let mut flip = false;
    group.bench_function("one file of 40 rules changed, 10000 rules running", |b| {
        b.iter(|| {
            flip = !flip;
            let text = if flip {
                original.replace("kind-1\"", "kind-1b\"")
            } else {
                original.clone()
            };
            std::fs::write(&one, text).unwrap();
            assert!(state.refresh(false).unwrap());
            let set = RuleSet::build(0, state.rules(), EventLimits::default());
            current.store(Arc::new(set));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
