//! Property tests: random patterns and events, checked against invariants that
//! must hold whatever the inputs (no panics, explain agrees with match, `$or` is a
//! union, dotted keys equal nesting, anything-but is a negation, ...).

mod common;

use common::{event_object, event_value, parse_generated, pattern, word};
use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard::pattern::event::read_event;
use switchyard::pattern::{EventLimits, Pattern, ReferenceMatcher};

fn matches(pattern: &Value, event: &Value) -> bool {
    let p = parse_generated(&pattern.to_string()).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    let ev = read_event(event.to_string().as_bytes(), &EventLimits::default()).unwrap();
    p.matches(&ev)
}

/// Rewrites nested pattern objects as dotted keys: {"a": {"b": X}} -> {"a.b": X}.
fn dotted(pattern: &Value, prefix: &str, out: &mut serde_json::Map<String, Value>) {
    for (k, v) in pattern.as_object().unwrap() {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(_) => dotted(v, &key, out),
            _ => {
                out.insert(key, v.clone());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any JSON at all is either a pattern or a clear error, never a panic, and
    /// explain agrees with match.
    #[test]
    fn arbitrary_json_never_panics(p in event_value(3), e in event_object(3)) {
        let event = read_event(e.to_string().as_bytes(), &EventLimits::default()).unwrap();
        match Pattern::parse(&p.to_string()) {
            Ok(pattern) => prop_assert_eq!(pattern.matches(&event), pattern.explain(&event).is_none()),
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    /// explain says "no reason" exactly when the pattern matches.
    #[test]
    fn explain_agrees_with_match(p in pattern(2, true), e in event_object(3)) {
        let pattern = parse_generated(&p.to_string()).unwrap();
        let event = read_event(e.to_string().as_bytes(), &EventLimits::default()).unwrap();
        let why = pattern.explain(&event);
        prop_assert_eq!(pattern.matches(&event), why.is_none());
        if let Some(why) = why {
            prop_assert!(!why.reasons.is_empty());
        }
    }

    /// {"$or": [P1, P2]} matches exactly when P1 or P2 does.
    #[test]
    fn or_is_a_union(p1 in pattern(1, false), p2 in pattern(1, false), e in event_object(3)) {
        let either = json!({"$or": [p1, p2]});
        prop_assert_eq!(matches(&either, &e), matches(&p1, &e) || matches(&p2, &e));
    }

    /// Dotted keys in patterns are the same as nesting.
    #[test]
    fn dotted_keys_equal_nesting(p in pattern(2, false), e in event_object(3)) {
        let mut flat = serde_json::Map::new();
        dotted(&p, "", &mut flat);
        prop_assert_eq!(matches(&Value::Object(flat), &e), matches(&p, &e));
    }

    /// Fields the pattern does not name do not change the result.
    #[test]
    fn unrelated_fields_do_not_matter(p in pattern(2, true), e in event_object(2), extra in event_value(2)) {
        let mut wider = e.clone();
        wider.as_object_mut().unwrap().insert("unrelated".into(), extra);
        prop_assert_eq!(matches(&p, &wider), matches(&p, &e));
    }

    /// On a single string value, anything-but is the negation of an exact match,
    /// and equals-ignore-case on ASCII is comparison of lower-cased text.
    #[test]
    fn string_operators_against_plain_definitions(v in word(), s in word()) {
        let event = json!({"f": s});
        prop_assert_eq!(matches(&json!({"f": [{"anything-but": v}]}), &event), !matches(&json!({"f": [v]}), &event));
        if v.is_ascii() && s.is_ascii() {
            prop_assert_eq!(
                matches(&json!({"f": [{"equals-ignore-case": v}]}), &event),
                v.eq_ignore_ascii_case(&s)
            );
        }
        prop_assert_eq!(matches(&json!({"f": [{"prefix": v}]}), &event), s.starts_with(&v));
        prop_assert_eq!(matches(&json!({"f": [{"suffix": v}]}), &event), s.ends_with(&v));
        prop_assert_eq!(matches(&json!({"f": [{"wildcard": format!("{v}*")}]}), &event), s.starts_with(&v));
    }

    /// Numeric ranges are comparisons of doubles.
    #[test]
    fn numeric_ranges_are_double_comparisons(lo in -1000i32..1000, width in 1i32..500, x in -2000.0f64..2000.0) {
        let hi = lo + width;
        let event = json!({"n": x});
        let inside = f64::from(lo) <= x && x < f64::from(hi);
        prop_assert_eq!(matches(&json!({"n": [{"numeric": [">=", lo, "<", hi]}]}), &event), inside);
    }

    /// The reference matcher returns exactly the ids whose patterns match.
    #[test]
    fn matcher_returns_the_matching_ids(ps in prop::collection::vec(pattern(2, true), 1..8), e in event_object(3)) {
        let mut matcher = ReferenceMatcher::default();
        for (i, p) in ps.iter().enumerate() {
            matcher.add(i, parse_generated(&p.to_string()).unwrap());
        }
        let got = matcher.matches(e.to_string().as_bytes()).unwrap();
        let want: Vec<usize> = (0..ps.len()).filter(|&i| matches(&ps[i], &e)).collect();
        prop_assert_eq!(got, want);
    }
}
