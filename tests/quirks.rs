//! EventBridge behaviours found by larger conformance sets, each checked through
//! every matcher (the reference's `Pattern::matches`, the `ReferenceMatcher`, the
//! compiled matcher on both of its paths) and through `--explain`:
//! - a field named both beside a `$or` and inside a branch: the test written last
//!   in the pattern wins within that branch;
//! - a scalar next to objects in an event array is consistent with every element;
//! - wildcard patterns too complex for EventBridge are rejected.

use switchyard::pattern::event::read_event;
use switchyard::pattern::{
    CheckedEvent, CompiledMatcher, EventLimits, Pattern, PatternLimits, ReferenceMatcher,
};

/// Checks each (pattern, event, should match) row through every matcher, and that
/// an explanation exists exactly when there is no match.
fn check(rows: &[(&str, &str, bool)]) {
    let mut wrong = Vec::new();
    for (pattern, event, expected) in rows {
        let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let doc = read_event(event.as_bytes(), &EventLimits::default())
            .unwrap_or_else(|e| panic!("{event}: {e}"));
        let mut reference = ReferenceMatcher::default();
        reference.add(0, p.clone());
        let mut compiled = CompiledMatcher::default();
        compiled.add(0, p.clone());
        let checked = CheckedEvent::check(event.as_bytes(), &EventLimits::default()).unwrap();
        let answers = [
            ("Pattern::matches", p.matches(&doc)),
            (
                "ReferenceMatcher",
                !reference.matches(event.as_bytes()).unwrap().is_empty(),
            ),
            (
                "CompiledMatcher::matches",
                !compiled.matches(event.as_bytes()).unwrap().is_empty(),
            ),
            (
                "CompiledMatcher::matches_checked",
                !compiled.matches_checked(&checked).unwrap().is_empty(),
            ),
            ("explain", p.explain(&doc).is_none()),
        ];
        for (matcher, got) in answers {
            if got != *expected {
                wrong.push(format!(
                    "{matcher}: {pattern} vs {event}: expected {expected}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn explain(pattern: &str, event: &str) -> String {
    let p = Pattern::parse(pattern).unwrap();
    let doc = read_event(event.as_bytes(), &EventLimits::default()).unwrap();
    p.explain(&doc).expect("no match").to_string()
}

#[test]
fn a_field_after_the_or_overrides_the_branch() {
    let pattern = r#"{"$or": [{"a": ["1"]}, {"b": ["2"]}], "a": ["3"]}"#;
    check(&[
        // The example: branch 0 becomes {"a": ["3"]}, branch 1 {"b": ["2"], "a": ["3"]}.
        (pattern, r#"{"a": "1"}"#, false),
        (pattern, r#"{"a": "3"}"#, true),
        (pattern, r#"{"a": "1", "b": "2"}"#, false),
        (pattern, r#"{"a": "3", "b": "2"}"#, true),
        (pattern, r#"{"b": "2"}"#, false),
        // Branches that do not name the field keep it.
        (
            r#"{"$or": [{"b": ["2"]}, {"c": ["4"]}], "a": ["3"]}"#,
            r#"{"a": "3", "c": "4"}"#,
            true,
        ),
        (
            r#"{"$or": [{"b": ["2"]}, {"c": ["4"]}], "a": ["3"]}"#,
            r#"{"c": "4"}"#,
            false,
        ),
    ]);
}

#[test]
fn a_field_before_the_or_is_overridden_by_the_branch() {
    let pattern = r#"{"a": ["3"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}"#;
    check(&[
        // Branch 0 becomes {"a": ["1"]}, branch 1 {"a": ["3"], "b": ["2"]}.
        (pattern, r#"{"a": "1"}"#, true),
        (pattern, r#"{"a": "3"}"#, false),
        (pattern, r#"{"a": "3", "b": "2"}"#, true),
        (pattern, r#"{"a": "1", "b": "2"}"#, true),
        (pattern, r#"{"a": "4", "b": "2"}"#, false),
    ]);
}

#[test]
fn the_last_write_wins_when_nested_and_across_levels() {
    check(&[
        // Inside a nested object, field after the $or.
        (
            r#"{"x": {"$or": [{"a": ["1"]}, {"b": ["2"]}], "a": ["3"]}}"#,
            r#"{"x": {"a": "1"}}"#,
            false,
        ),
        (
            r#"{"x": {"$or": [{"a": ["1"]}, {"b": ["2"]}], "a": ["3"]}}"#,
            r#"{"x": {"a": "3"}}"#,
            true,
        ),
        // Inside a nested object, field before the $or.
        (
            r#"{"x": {"a": ["3"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}}"#,
            r#"{"x": {"a": "1"}}"#,
            true,
        ),
        (
            r#"{"x": {"a": ["3"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}}"#,
            r#"{"x": {"a": "3"}}"#,
            false,
        ),
        // A nested $or, and the same path written as a dotted key at the top
        // level, after it.
        (
            r#"{"x": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}, "x.a": ["3"]}"#,
            r#"{"x": {"a": "1"}}"#,
            false,
        ),
        (
            r#"{"x": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}, "x.a": ["3"]}"#,
            r#"{"x": {"a": "3"}}"#,
            true,
        ),
        // ... and before it.
        (
            r#"{"x.a": ["3"], "x": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}}"#,
            r#"{"x": {"a": "1"}}"#,
            true,
        ),
        (
            r#"{"x.a": ["3"], "x": {"$or": [{"a": ["1"]}, {"b": ["2"]}]}}"#,
            r#"{"x": {"a": "3"}}"#,
            false,
        ),
        // A $or inside a branch: the outermost later field still wins.
        (
            r#"{"$or": [{"$or": [{"a": ["1"]}, {"c": ["5"]}]}, {"b": ["2"]}], "a": ["3"]}"#,
            r#"{"a": "1"}"#,
            false,
        ),
        (
            r#"{"$or": [{"$or": [{"a": ["1"]}, {"c": ["5"]}]}, {"b": ["2"]}], "a": ["3"]}"#,
            r#"{"a": "3"}"#,
            true,
        ),
        // Two writes inside one branch: the later one.
        (
            r#"{"$or": [{"a": ["1"], "a": ["4"]}, {"b": ["2"]}]}"#,
            r#"{"a": "4"}"#,
            true,
        ),
        (
            r#"{"$or": [{"a": ["1"], "a": ["4"]}, {"b": ["2"]}]}"#,
            r#"{"a": "1"}"#,
            false,
        ),
    ]);
}

#[test]
fn explanations_leave_out_overridden_branch_tests() {
    // Branch 0's {"a": ["1"]} is overridden by the later "a": ["3"], so only the
    // top-level field is a reason; the $or holds through branch 0.
    assert_eq!(
        explain(
            r#"{"$or": [{"a": ["1"]}, {"b": ["2"]}], "a": ["3"], "c": ["z"]}"#,
            r#"{"a": "3", "c": "q"}"#,
        ),
        r#"- c: wanted one of ["z"], event has "q""#
    );
    assert_eq!(
        explain(
            r#"{"$or": [{"a": ["1"]}, {"b": ["2"]}], "a": ["3"]}"#,
            r#"{"a": "1"}"#,
        ),
        r#"- a: wanted one of ["3"], event has "1""#
    );
    // Before the $or, the branch's test is the one that counts for branch 0.
    assert_eq!(
        explain(
            r#"{"a": ["3"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}"#,
            r#"{"a": "3"}"#,
        ),
        "- $or: none of the 2 branches matched\n    $or[0]:\n      - a: wanted one of [\"1\"], event has \"3\"\n    $or[1]:\n      - b: missing (wanted one of [\"2\"])"
    );
}

#[test]
fn a_scalar_in_an_array_is_consistent_with_every_element() {
    check(&[
        // The example.
        (
            r#"{"b": [1], "b.c": ["x"]}"#,
            r#"{"b": [{"c": "x"}, 1]}"#,
            true,
        ),
        (
            r#"{"b": [1], "b.c": ["x"]}"#,
            r#"{"b": [1, {"c": "x"}]}"#,
            true,
        ),
        (
            r#"{"b": [1], "b": {"c": ["x"]}}"#,
            r#"{"b": [{"c": "x"}, 1]}"#,
            true,
        ),
        // Two objects still need one element.
        (
            r#"{"b": {"c": ["x"], "d": ["y"]}}"#,
            r#"{"b": [{"c": "x"}, {"d": "y"}]}"#,
            false,
        ),
        (
            r#"{"b": {"c": ["x"], "d": ["y"]}}"#,
            r#"{"b": [{"c": "x", "d": "y"}, 1]}"#,
            true,
        ),
        // Deeper: the scalar sits in an array inside an element of an outer array;
        // it keeps its place in the outer array.
        (
            r#"{"o": {"b": [1], "b.c": ["x"]}}"#,
            r#"{"o": [{"b": [{"c": "x"}, 1]}]}"#,
            true,
        ),
        (
            r#"{"o": {"b": [1], "b.c": ["x"]}}"#,
            r#"{"o": [{"b": [{"c": "x"}]}, {"b": [1]}]}"#,
            false,
        ),
        // Scalars in a nested array of an element: consistent within that element.
        (
            r#"{"o": {"t": ["a"], "u": ["b"]}}"#,
            r#"{"o": [{"t": ["a", "z"], "u": "b"}]}"#,
            true,
        ),
        (
            r#"{"o": {"t": ["a"], "u": ["b"]}}"#,
            r#"{"o": [{"t": ["a"]}, {"u": "b"}]}"#,
            false,
        ),
        // An array element of an array keeps its identity.
        (
            r#"{"b": {"c": ["x"]}, "b.d": ["y"]}"#,
            r#"{"b": [[{"c": "x"}], [{"d": "y"}]]}"#,
            false,
        ),
        // exists: false looks at the scalar too.
        (
            r#"{"b": {"c": ["x"]}, "b.d": [{"exists": false}]}"#,
            r#"{"b": [{"c": "x"}, {"d": 1}]}"#,
            true,
        ),
        (
            r#"{"b": [1], "b.c": [{"exists": false}]}"#,
            r#"{"b": [{"c": "x"}, 1]}"#,
            false,
        ),
    ]);
}

fn rejected(pattern: &str) -> Option<String> {
    Pattern::parse(pattern).err().map(|e| e.to_string())
}

#[test]
fn wildcards_too_complex_for_eventbridge_are_rejected() {
    let too_complex = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";
    // The example.
    assert_eq!(
        rejected(r#"{"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}"#).as_deref(),
        Some(
            format!(
                "EventBusArn: {too_complex} (wildcard complexity is more than the limit of 10)"
            )
            .as_str()
        )
    );
    // Complexity adds up over all wildcards of one field, across values and $or
    // branches (that agree on the fields sorted before it), and counts
    // anything-but wildcards too.
    for pattern in [
        r#"{"s": [{"wildcard": "*:stack/a/*"}, {"wildcard": "*:stack/b/*"}, {"wildcard": "*:stack/c/*"}, {"wildcard": "*:stack/d/*"}]}"#,
        r#"{"$or": [{"s": [{"wildcard": "*:stack/a/*"}, {"wildcard": "*:stack/b/*"}]}, {"s": [{"wildcard": "*:stack/c/*"}, {"wildcard": "*:stack/d/*"}]}]}"#,
        r#"{"s": [{"wildcard": "*:stack/a/*"}, {"wildcard": "*:stack/b/*"}, {"anything-but": {"wildcard": ["*:stack/c/*", "*:stack/d/*"]}}]}"#,
        r#"{"d": {"s": [{"wildcard": "*a*a*a*a*a*"}]}}"#,
    ] {
        let message = rejected(pattern).unwrap_or_else(|| panic!("accepted: {pattern}"));
        assert!(message.contains(too_complex), "{pattern}: {message}");
    }
    // Ordinary wildcards, and complexity spread over different fields, are fine.
    for pattern in [
        r#"{"s": [{"wildcard": "*:stack/a/*"}, {"wildcard": "*:stack/b/*"}, {"wildcard": "*:stack/c/*"}]}"#,
        r#"{"s": [{"wildcard": "*:stack/a/*"}, {"wildcard": "*:stack/b/*"}], "t": [{"wildcard": "*:stack/c/*"}, {"wildcard": "*:stack/d/*"}]}"#,
        r#"{"f": [{"wildcard": "arn:aws:s3:::bucket/*.png"}]}"#,
        r#"{"f": [{"wildcard": "*/lib/*"}, {"anything-but": {"wildcard": "*.jar"}}]}"#,
        r#"{"f": [{"wildcard": "arn:aws:events:*:*:event-bus/*"}]}"#,
        r#"{"f": [{"wildcard": "a*b*c*d*e*f*g*h"}]}"#,
        // Branches that differ on a field sorted before the wildcard one reach
        // different machines in event-ruler: their wildcards do not add up.
        r#"{"$or": [{"a": ["1"], "s": [{"wildcard": "*:stack/a/*"}, {"wildcard": "*:stack/b/*"}]}, {"a": ["2"], "s": [{"wildcard": "*:stack/c/*"}, {"wildcard": "*:stack/d/*"}]}]}"#,
        // The same wildcard twice counts once.
        r#"{"$or": [{"s": [{"wildcard": "*:*:*"}]}, {"s": [{"wildcard": "*:*:*"}], "t": ["x"]}]}"#,
    ] {
        assert_eq!(rejected(pattern), None, "{pattern}");
    }
    // The limit is configurable.
    let generous = PatternLimits {
        max_wildcard_complexity: 20,
        ..PatternLimits::default()
    };
    assert!(
        Pattern::parse_with(
            r#"{"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}"#,
            &generous
        )
        .is_ok()
    );
    let strict = PatternLimits {
        max_wildcard_complexity: 1,
        ..PatternLimits::default()
    };
    assert!(Pattern::parse_with(r#"{"f": [{"wildcard": "a*"}]}"#, &strict).is_err());
    assert!(Pattern::parse_with(r#"{"f": [{"wildcard": "abc"}]}"#, &strict).is_ok());
}
