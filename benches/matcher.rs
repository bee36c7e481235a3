//! switchyard's compiled matcher against the `quamina` crate (a Rust port of Tim
//! Bray's Quamina), on the same generated citylots-like events, family by family.
//!
//! Run with `cargo bench --bench matcher`; `scripts/bench-table.py` turns the
//! results into the README table. Each benchmark matches every event of a batch
//! once, so criterion's throughput is events per second on one core.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchyard::bench::citylots::{Family, events};
use switchyard::pattern::{CheckedEvent, CompiledMatcher, EventLimits, Pattern, PatternLimits};

const EVENTS: usize = 2000;

fn matcher(c: &mut Criterion) {
    let limits = PatternLimits {
        max_bytes: usize::MAX,
        ..PatternLimits::default()
    };
    for envelope in [false, true] {
        let batch = events(EVENTS, 42, envelope);
        for family in Family::ALL {
            let patterns = family.patterns(envelope);
            let name = format!(
                "{}/{}",
                family.name(),
                if envelope { "envelope" } else { "plain" }
            );
            let mut group = c.benchmark_group(&name);
            group.throughput(Throughput::Elements(batch.len() as u64));

            let mut ours = CompiledMatcher::default();
            for (i, text) in patterns.iter().enumerate() {
                ours.add(
                    i,
                    Pattern::parse_with(text, &limits).expect("valid pattern"),
                );
            }
            let our_matches: usize = batch
                .iter()
                .map(|e| ours.matches(e.as_bytes()).unwrap().len())
                .sum();
            group.bench_function("switchyard", |b| {
                b.iter(|| {
                    batch
                        .iter()
                        .map(|e| ours.matches(black_box(e.as_bytes())).unwrap().len())
                        .sum::<usize>()
                })
            });

            // The router validates each event once at ingest and then matches it
            // without validating again; this is that path.
            let checked: Vec<CheckedEvent<'_>> = batch
                .iter()
                .map(|e| CheckedEvent::check(e.as_bytes(), &EventLimits::default()).unwrap())
                .collect();
            group.bench_function("switchyard-checked", |b| {
                b.iter(|| {
                    checked
                        .iter()
                        .map(|e| ours.matches_checked(black_box(e)).unwrap().len())
                        .sum::<usize>()
                })
            });

            let mut theirs = quamina::Quamina::<usize>::new();
            let rejected = patterns
                .iter()
                .enumerate()
                .find_map(|(i, text)| theirs.add_pattern(i, text).err());
            match rejected {
                Some(e) => println!("{name}: quamina rejects this family: {e}"),
                None => {
                    let their_matches: usize = batch
                        .iter()
                        .map(|e| theirs.matches_for_event(e.as_bytes()).unwrap().len())
                        .sum();
                    println!(
                        "{name}: matches per batch of {EVENTS}: switchyard {our_matches}, quamina {their_matches}"
                    );
                    group.bench_function("quamina", |b| {
                        b.iter(|| {
                            batch
                                .iter()
                                .map(|e| {
                                    theirs
                                        .matches_for_event(black_box(e.as_bytes()))
                                        .unwrap()
                                        .len()
                                })
                                .sum::<usize>()
                        })
                    });
                }
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = matcher
}
criterion_main!(benches);
