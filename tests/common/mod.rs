//! Random pattern and event generators shared by the property tests.
#![allow(dead_code)] // each test crate uses a different part

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard::pattern::{Pattern, PatternError, PatternLimits};

/// Reads a generated pattern. Random patterns may stack wildcards on one field
/// past EventBridge's complexity limit, which matching does not care about.
pub fn parse_generated(text: &str) -> Result<Pattern, PatternError> {
    let limits = PatternLimits {
        max_wildcard_complexity: usize::MAX,
        ..PatternLimits::default()
    };
    Pattern::parse_with(text, &limits)
}

/// Small vocabularies so that random patterns and events often meet.
pub const KEYS: &[&str] = &["a", "b", "c"];
pub const WORDS: &[&str] = &[
    "", "x", "xy", "Xy", "yx", "10.0.0.1", "10.1.2.3", "::1", "ß", "SS",
];

pub fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

pub fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-3i64..4).prop_map(Value::from),
        prop::sample::select(vec![0.5f64, -2.25, 1e300, 3.5]).prop_map(Value::from),
    ]
}

pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        word().prop_map(Value::from),
        number(),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

/// Random events: objects over KEYS with scalars, arrays and nested objects.
pub fn event_value(depth: u32) -> BoxedStrategy<Value> {
    if depth == 0 {
        return scalar().boxed();
    }
    prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(event_value(depth - 1), 0..3).prop_map(Value::Array),
        2 => event_object(depth - 1),
    ]
    .boxed()
}

pub fn event_object(depth: u32) -> BoxedStrategy<Value> {
    prop::collection::btree_map(prop::sample::select(KEYS), event_value(depth), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
        .boxed()
}

/// One entry of a values array: a literal or an operator.
pub fn match_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => scalar(),
        1 => word().prop_map(|w| json!({"prefix": w})),
        1 => word().prop_map(|w| json!({"suffix": w})),
        1 => word().prop_map(|w| json!({"prefix": {"equals-ignore-case": w}})),
        1 => word().prop_map(|w| json!({"equals-ignore-case": w})),
        1 => (word(), word()).prop_map(|(a, b)| json!({"wildcard": format!("{a}*{b}")})),
        1 => word().prop_map(|w| json!({"anything-but": w})),
        1 => prop::collection::vec(-3i64..4, 1..3).prop_map(|v| json!({"anything-but": v})),
        1 => prop::sample::select(vec!["x", "y"]).prop_map(|w| json!({"anything-but": {"prefix": w}})),
        1 => (-3i64..4).prop_map(|n| json!({"numeric": [">", n]})),
        1 => (-3i64..0, 0i64..4).prop_map(|(a, b)| json!({"numeric": [">=", a, "<", b]})),
        1 => any::<bool>().prop_map(|b| json!({"exists": b})),
        1 => Just(json!({"cidr": "10.0.0.0/16"})),
    ]
}

/// Random valid patterns (with `$or` when `or` is set).
pub fn pattern(depth: u32, or: bool) -> BoxedStrategy<Value> {
    let field = if depth == 0 {
        prop::collection::vec(match_value(), 1..3)
            .prop_map(Value::Array)
            .boxed()
    } else {
        prop_oneof![
            3 => prop::collection::vec(match_value(), 1..3).prop_map(Value::Array),
            1 => pattern(depth - 1, or),
        ]
        .boxed()
    };
    let fields =
        prop::collection::btree_map(prop::sample::select(KEYS), field, 1..3).prop_map(|m| {
            m.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<serde_json::Map<_, _>>()
        });
    if or && depth > 0 {
        (
            fields,
            prop::option::of(prop::collection::vec(pattern(depth - 1, false), 2..3)),
        )
            .prop_map(|(mut m, branches)| {
                if let Some(b) = branches {
                    m.insert("$or".into(), Value::Array(b));
                }
                Value::Object(m)
            })
            .boxed()
    } else {
        fields.prop_map(Value::Object).boxed()
    }
}
