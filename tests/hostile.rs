//! Hostile events cannot stall matching. The array-consistency search is
//! exponential in the worst case, so both matchers spend at most
//! `EventLimits::max_search_steps` steps on it per event and then fail with
//! `EventError::SearchTooLong`. The events here would take minutes to hours
//! without the budget, so each test is bounded by getting that error. The other
//! per-event paths (long strings under wildcards and case-insensitive suffixes,
//! deep nesting with long keys, many repeated keys) are shown to stay fast.

use std::time::{Duration, Instant};

use switchyard::pattern::event::{DEFAULT_SEARCH_STEPS, read_event};
use switchyard::pattern::{
    CheckedEvent, CompiledMatcher, EventError, EventLimits, Pattern, ReferenceMatcher,
};

/// Every way of matching `event` against `patterns`: the reference matcher, the
/// compiled one validating and pre-validated, and for a single pattern
/// `Pattern::matches_within` and `explain_within`.
fn outcomes(
    patterns: &[String],
    event: &str,
    limits: EventLimits,
) -> Vec<(&'static str, Result<usize, EventError>)> {
    let mut reference = ReferenceMatcher::new(limits);
    let mut compiled = CompiledMatcher::new(limits);
    for (i, p) in patterns.iter().enumerate() {
        let p = Pattern::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        reference.add(i, p.clone());
        compiled.add(i, p);
    }
    let checked = CheckedEvent::check(event.as_bytes(), &limits).unwrap();
    let doc = read_event(event.as_bytes(), &limits).unwrap();
    let mut out = vec![
        (
            "ReferenceMatcher",
            reference.matches(event.as_bytes()).map(|v| v.len()),
        ),
        (
            "CompiledMatcher::matches",
            compiled.matches(event.as_bytes()).map(|v| v.len()),
        ),
        (
            "CompiledMatcher::matches_checked",
            compiled.matches_checked(&checked).map(|v| v.len()),
        ),
    ];
    if let [only] = patterns {
        let p = Pattern::parse(only).unwrap();
        out.push((
            "Pattern::matches_within",
            p.matches_within(&doc, &limits).map(usize::from),
        ));
        out.push((
            "Pattern::explain_within",
            p.explain_within(&doc, &limits)
                .map(|why| usize::from(why.is_none())),
        ));
    }
    out
}

/// Asserts that every matcher gives up with the budget error.
fn assert_out_of_steps(patterns: &[String], event: &str, limits: EventLimits) {
    for (matcher, outcome) in outcomes(patterns, event, limits) {
        assert_eq!(
            outcome,
            Err(EventError::SearchTooLong {
                limit: limits.max_search_steps
            }),
            "{matcher}"
        );
    }
}

/// `width` objects `{"v": 1}`.
fn objects(width: usize) -> String {
    vec![r#"{"v": 1}"#; width].join(",")
}

/// An element with `fields` arrays of `width` objects each, and a field `z`:
/// every combination of one object per array is array-consistent, so a pattern
/// needing one value of each and `z` absent tries them all before failing.
fn element(fields: usize, width: usize) -> String {
    let arrays: Vec<String> = (0..fields)
        .map(|f| format!(r#""f{f}": [{}]"#, objects(width)))
        .collect();
    format!(r#"{{{}, "z": 1}}"#, arrays.join(", "))
}

/// The pattern on `prefix` (a dotted path to the array of elements).
fn pattern(prefix: &str, fields: usize, absent: &str) -> String {
    let tests: Vec<String> = (0..fields)
        .map(|f| format!(r#""{prefix}.f{f}.v": [1]"#))
        .collect();
    format!(
        r#"{{{}, "{prefix}.{absent}": [{{"exists": false}}]}}"#,
        tests.join(", ")
    )
}

/// Wraps `inner` (the array's JSON) at `depth` levels of arrays of objects:
/// `{"o": [{"o": [ ... {"x": inner} ... ]}]}`; returns the event and the path.
fn nest(inner: &str, depth: usize) -> (String, String) {
    let mut event = format!(r#"{{"x": {inner}}}"#);
    let mut path = "x".to_string();
    for _ in 0..depth {
        event = format!(r#"{{"o": [{{"pad": 1}}, {event}]}}"#);
        path = format!("o.{path}");
    }
    (event, path)
}

#[test]
fn wide_arrays_of_objects_at_several_depths_run_out_of_steps() {
    // 30 elements x 30^5 combinations each: hours without a budget. The default
    // budget at the top; a smaller one deeper down keeps the test short.
    for depth in 0..3 {
        let elements = vec![element(5, 30); 30].join(",");
        let (event, path) = nest(&format!("[{elements}]"), depth);
        assert!(event.len() < 256 * 1024);
        let patterns = [pattern(&path, 5, "z")];
        let limits = EventLimits {
            max_search_steps: if depth == 0 {
                DEFAULT_SEARCH_STEPS
            } else {
                1_000_000
            },
            ..EventLimits::default()
        };
        assert_out_of_steps(&patterns, &event, limits);
    }
}

#[test]
fn the_budget_is_shared_by_all_patterns_on_an_event() {
    // Each pattern alone stays within the budget; 200 of them on the same array
    // paths do not.
    let elements = vec![element(3, 8); 20].join(",");
    let event = format!(r#"{{"x": [{elements}]}}"#);
    let limits = EventLimits {
        max_search_steps: 2_000_000,
        ..EventLimits::default()
    };
    let one = [pattern("x", 3, "z")];
    for (matcher, outcome) in outcomes(&one, &event, limits) {
        assert_eq!(outcome, Ok(0), "{matcher}: one pattern fits the budget");
    }
    let many: Vec<String> = (0..200)
        .map(|i| {
            // Distinct patterns (the compiled matcher shares identical ones).
            pattern("x", 3, "z")
                .replace(r#""x.f0.v": [1]"#, &format!(r#""x.f0.v": [1, {}]"#, i + 2))
        })
        .collect();
    assert_out_of_steps(&many, &event, limits);
}

#[test]
fn the_error_says_what_happened_and_the_limit() {
    assert_eq!(
        EventError::SearchTooLong {
            limit: DEFAULT_SEARCH_STEPS
        }
        .to_string(),
        "matching this event needs more than 10000000 steps of the array-consistency search (limit 10000000): its arrays hold too many combinations of values for the patterns that name them to be checked"
    );
    // A tiny budget shows the limit is the configured one.
    let limits = EventLimits {
        max_search_steps: 3,
        ..EventLimits::default()
    };
    let event = format!(r#"{{"x": [{}]}}"#, vec![element(2, 3); 3].join(","));
    assert_out_of_steps(&[pattern("x", 2, "z")], &event, limits);
}

#[test]
fn ordinary_events_stay_far_below_the_default_budget() {
    // Arrays of objects the way real events have them: 200 elements, 50 patterns
    // on the same array, some matching, some failing only on consistency.
    let elements: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"id": "i-{i}", "state": "s{}", "size": {i}}}"#, i % 7))
        .collect();
    let event = format!(
        r#"{{"source": "aws.ec2", "detail": {{"items": [{}]}}}}"#,
        elements.join(",")
    );
    let patterns: Vec<String> = (0..50)
        .map(|i| {
            format!(
                r#"{{"source": ["aws.ec2"], "detail": {{"items": {{"id": ["i-{}"], "state": ["s{}"], "size": [{{"numeric": [">=", {}]}}]}}}}}}"#,
                i * 4,
                i % 5,
                i
            )
        })
        .collect();
    // With a budget a hundred times smaller than the default, still no error.
    let limits = EventLimits {
        max_search_steps: DEFAULT_SEARCH_STEPS / 100,
        ..EventLimits::default()
    };
    for (matcher, outcome) in outcomes(&patterns, &event, limits) {
        assert!(outcome.is_ok(), "{matcher}: {outcome:?}");
    }
}

/// Matches one pattern against one event through both matchers; returns how long
/// the slower took. The bound only catches superlinear blow-ups (they take
/// minutes); it is not a performance measurement.
fn quickly(pattern: &str, event: &str, expected: bool) {
    let started = Instant::now();
    for (matcher, outcome) in outcomes(&[pattern.to_string()], event, EventLimits::default()) {
        assert_eq!(outcome, Ok(usize::from(expected)), "{matcher}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn long_strings_under_wildcards_and_ignore_case_suffixes_are_linear() {
    let long = "a".repeat(200_000);
    // Backtracking wildcard matchers take exponential time on this.
    quickly(
        r#"{"s": [{"wildcard": "*a*a*a*b"}]}"#,
        &format!(r#"{{"s": "{long}"}}"#),
        false,
    );
    quickly(
        r#"{"s": [{"anything-but": {"wildcard": "*a*a*a*b"}}]}"#,
        &format!(r#"{{"s": "{long}"}}"#),
        true,
    );
    // A long non-ASCII case-insensitive suffix against a long string: tried only
    // where it could end the string.
    let suffix = "ǅ".repeat(600);
    quickly(
        &format!(r#"{{"s": [{{"suffix": {{"equals-ignore-case": "{suffix}"}}}}]}}"#),
        &format!(r#"{{"s": "{}{}"}}"#, "ǆ".repeat(100_000), "Ǆ".repeat(600)),
        true,
    );
}

#[test]
fn deep_nesting_with_long_keys_is_not_quadratic() {
    // 120 levels of 1,000-byte keys, then 10,000 values: spelling out every
    // value's full path would take gigabytes.
    let key = "k".repeat(1000);
    let mut event = format!(
        "{{{}}}",
        (0..10_000)
            .map(|i| format!(r#""v{i}": {i}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    for _ in 0..120 {
        event = format!(r#"{{"{key}": {event}}}"#);
    }
    let event = format!(r#"{{"a": "x", "deep": {event}}}"#);
    assert!(event.len() < 256 * 1024);
    quickly(r#"{"a": ["x"], "b": [{"exists": false}]}"#, &event, true);
}

#[test]
fn many_repeated_keys_are_linear() {
    let repeated = vec![r#""a": 1, "b": 2"#; 15_000].join(", ");
    let event = format!("{{{repeated}}}");
    quickly(r#"{"a": [1], "b": [2], "c": [3]}"#, &event, false);
    quickly(
        r#"{"a": [1], "b": [2], "c": [{"exists": false}]}"#,
        &event,
        true,
    );
    quickly(r#"{"a": [1], "b": [{"exists": false}]}"#, &event, false);
}
