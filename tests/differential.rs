//! The compiled matcher against the reference matcher: random patterns and events
//! must give identical results, including after removals, and the compiled
//! matcher must agree with every public EventBridge conformance case while holding
//! all of their patterns at once.

mod common;

use common::{event_object, parse_generated, pattern};
use proptest::prelude::*;
use switchyard::json::{JsonValue, parse};
use switchyard::pattern::{
    CheckedEvent, CompiledMatcher, EventLimits, Pattern, PatternLimits, ReferenceMatcher,
};

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn compiled_equals_reference(
        patterns in prop::collection::vec(pattern(3, true), 1..12),
        events in prop::collection::vec(event_object(4), 1..6),
        removed in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let mut reference = ReferenceMatcher::default();
        let mut compiled = CompiledMatcher::default();
        for (i, p) in patterns.iter().enumerate() {
            let p = parse_generated(&p.to_string()).unwrap();
            // Some ids hold two patterns.
            reference.add(i % 9, p.clone());
            compiled.add(i % 9, p);
        }
        for r in &removed {
            let id = r.index(9);
            prop_assert_eq!(reference.remove(&id), compiled.remove(&id));
        }
        for e in &events {
            let bytes = e.to_string();
            let want = sorted(reference.matches(bytes.as_bytes()).unwrap());
            let got = sorted(compiled.matches(bytes.as_bytes()).unwrap());
            prop_assert_eq!(&got, &want, "event {}", bytes);
            // Validated once, then matched without validating again: same answer.
            let checked = CheckedEvent::check(bytes.as_bytes(), &EventLimits::default()).unwrap();
            let trusted = sorted(compiled.matches_checked(&checked).unwrap());
            prop_assert_eq!(trusted, want, "checked event {}", bytes);
        }
    }

    /// Malformed events are errors for both, with the same message.
    #[test]
    fn invalid_events_fail_the_same_way(e in event_object(3), cut in any::<prop::sample::Index>()) {
        let text = e.to_string();
        let broken = &text.as_bytes()[..cut.index(text.len())];
        let mut reference = ReferenceMatcher::default();
        let mut compiled = CompiledMatcher::default();
        let p = Pattern::parse(r#"{"a": [{"exists": true}]}"#).unwrap();
        reference.add(0, p.clone());
        compiled.add(0, p);
        let want = reference.matches(broken).map_err(|e| e.to_string());
        let got = compiled.matches(broken).map_err(|e| e.to_string());
        prop_assert_eq!(&got, &want);
        let checked = CheckedEvent::check(broken, &EventLimits::default()).map(|_| ()).map_err(|e| e.to_string());
        prop_assert_eq!(checked, want.map(|_| ()));
    }
}

#[test]
fn compiled_matcher_agrees_with_every_conformance_case_at_once() {
    let cases = include_str!("data/eb-conformance-public.jsonl");
    let mut compiled = CompiledMatcher::default();
    let mut expected = Vec::new();
    for (i, line) in cases.lines().enumerate() {
        let doc = parse(line, 256).unwrap();
        let JsonValue::Object(members) = &doc.value else {
            panic!()
        };
        let get = |k: &str| &members.iter().find(|m| m.key == k).unwrap().value;
        let JsonValue::String(expect) = &get("expect").value else {
            panic!()
        };
        let JsonValue::String(id) = &get("id").value else {
            panic!()
        };
        // Labelled by event-ruler's `Machine`, which has no wildcard complexity
        // limit (EventBridge's PutRule has one).
        let limits = PatternLimits {
            max_wildcard_complexity: usize::MAX,
            ..PatternLimits::default()
        };
        match Pattern::from_json(get("pattern"), &limits) {
            Ok(p) => {
                assert_ne!(expect, "invalid", "{id} should be rejected");
                compiled.add(i, p);
                expected.push((i, id.clone(), get("event").to_string(), expect == "match"));
            }
            Err(e) => assert_eq!(expect, "invalid", "{id}: {e}"),
        }
    }
    let mut wrong = Vec::new();
    for (i, id, event, should_match) in &expected {
        let hits = compiled.matches(event.as_bytes()).unwrap();
        if hits.contains(i) != *should_match {
            wrong.push(format!("{id}: expected match={should_match}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Long, realistic events (the benchmark's citylots features, with and without an
/// EventBridge envelope) through every benchmark pattern family: both matching
/// paths of the compiled matcher agree with the reference.
#[test]
fn compiled_equals_reference_on_citylots_families() {
    use switchyard::bench::citylots::{Family, events};
    for envelope in [false, true] {
        let batch = events(150, 3, envelope);
        for family in Family::ALL {
            let mut reference = ReferenceMatcher::default();
            let mut compiled = CompiledMatcher::default();
            // The reference is slow: a sample of the big families is enough.
            for (i, text) in family
                .patterns(envelope)
                .iter()
                .enumerate()
                .step_by(37)
                .take(60)
            {
                let p = Pattern::parse(text).unwrap();
                reference.add(i, p.clone());
                compiled.add(i, p);
            }
            for e in &batch {
                let want = sorted(reference.matches(e.as_bytes()).unwrap());
                assert_eq!(
                    sorted(compiled.matches(e.as_bytes()).unwrap()),
                    want,
                    "{}",
                    family.name()
                );
                let checked = CheckedEvent::check(e.as_bytes(), &EventLimits::default()).unwrap();
                assert_eq!(
                    sorted(compiled.matches_checked(&checked).unwrap()),
                    want,
                    "{}",
                    family.name()
                );
            }
        }
    }
}

/// An event built to make a naive search try every combination of array values:
/// 60 elements, each with 40 values for three fields, and the fourth field only in
/// another element. It must still be answered quickly and correctly (no match).
#[test]
fn array_searches_stay_small_on_hostile_events() {
    let element: String = format!(
        r#"{{"t": [{t}], "u": [{u}], "v": [{v}]}}"#,
        t = vec![r#""a""#; 40].join(","),
        u = vec![r#""b""#; 40].join(","),
        v = vec![r#""c""#; 40].join(","),
    );
    let mut elements = vec![element; 60];
    elements.push(r#"{"w": "d"}"#.to_string());
    let event = format!(r#"{{"x": [{}]}}"#, elements.join(","));
    let mut compiled = CompiledMatcher::default();
    compiled.add(
        1,
        Pattern::parse(r#"{"x": {"t": ["a"], "u": ["b"], "v": ["c"], "w": ["d"]}}"#).unwrap(),
    );
    // Without pruning the search tries 2,400 x 40 x 40 combinations before
    // failing; with it, each first choice fails at once. The bound only guards
    // against the search running away (it is not a performance measurement).
    let started = std::time::Instant::now();
    assert!(compiled.matches(event.as_bytes()).unwrap().is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
