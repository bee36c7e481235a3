//! Edge cases of every pattern operator, checked through the public API.
//! Each row is (pattern, event, should match). Where EventBridge behaves in a way
//! that surprises, the row says so.

use switchyard::pattern::event::read_event;
use switchyard::pattern::{EventLimits, Pattern};

fn check(rows: &[(&str, &str, bool)]) {
    let mut wrong = Vec::new();
    for (pattern, event, expected) in rows {
        let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let ev = read_event(event.as_bytes(), &EventLimits::default())
            .unwrap_or_else(|e| panic!("{event}: {e}"));
        if p.matches(&ev) != *expected {
            wrong.push(format!("{pattern} vs {event}: expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn exact_values() {
    check(&[
        (r#"{"a": ["x"]}"#, r#"{"a": "x"}"#, true),
        (r#"{"a": ["x"]}"#, r#"{"a": "X"}"#, false),
        (r#"{"a": ["x", "y"]}"#, r#"{"a": "y"}"#, true),
        (r#"{"a": ["5"]}"#, r#"{"a": 5}"#, false),
        (r#"{"a": [5]}"#, r#"{"a": "5"}"#, false),
        (r#"{"a": [301.8]}"#, r#"{"a": 3.018e2}"#, true),
        (r#"{"a": [5]}"#, r#"{"a": 5.0}"#, true),
        (r#"{"a": [0]}"#, r#"{"a": -0.0}"#, true),
        (r#"{"a": [1E3]}"#, r#"{"a": 1000}"#, true),
        // Numbers that do not round-trip through a double match only by text.
        (
            r#"{"a": [9007199254740993]}"#,
            r#"{"a": 9007199254740993}"#,
            true,
        ),
        (
            r#"{"a": [9007199254740993]}"#,
            r#"{"a": 9007199254740992}"#,
            false,
        ),
        (r#"{"a": [1e400]}"#, r#"{"a": 1e400}"#, true),
        (r#"{"a": [true]}"#, r#"{"a": true}"#, true),
        (r#"{"a": [true]}"#, r#"{"a": "true"}"#, false),
        (r#"{"a": [false]}"#, r#"{"a": true}"#, false),
        (r#"{"a": [null]}"#, r#"{"a": null}"#, true),
        (r#"{"a": [null]}"#, r#"{}"#, false),
        (r#"{"a": [""]}"#, r#"{"a": ""}"#, true),
        (r#"{"a": [""]}"#, r#"{"a": null}"#, false),
        (r#"{"a": [""]}"#, r#"{}"#, false),
        // A pattern never matches an object value.
        (r#"{"a": ["x"]}"#, r#"{"a": {"b": "x"}}"#, false),
        // Exact strings that are IP addresses compare as addresses.
        (r#"{"ip": ["::1"]}"#, r#"{"ip": "0:0:0:0:0:0:0:1"}"#, true),
        (r#"{"ip": ["10.0.0.1"]}"#, r#"{"ip": "::ffff:a00:1"}"#, true),
        (
            r#"{"ip": ["2001:DB8::1"]}"#,
            r#"{"ip": "2001:db8:0:0:0:0:0:1"}"#,
            true,
        ),
        (r#"{"ip": ["10.0.0.1"]}"#, r#"{"ip": "10.0.0.2"}"#, false),
    ]);
}

#[test]
fn nesting_dotted_keys_and_arrays() {
    check(&[
        (r#"{"a": {"b": ["x"]}}"#, r#"{"a": {"b": "x"}}"#, true),
        (r#"{"a.b": ["x"]}"#, r#"{"a": {"b": "x"}}"#, true),
        (r#"{"a": {"b": ["x"]}}"#, r#"{"a.b": "x"}"#, true),
        (r#"{"a": {"b": ["x"]}}"#, r#"{"a": "x"}"#, false),
        // Arrays in events: any element may match.
        (r#"{"a": ["x"]}"#, r#"{"a": ["y", "x"]}"#, true),
        (r#"{"a": ["x"]}"#, r#"{"a": [["x"]]}"#, true),
        (r#"{"a": ["x"]}"#, r#"{"a": []}"#, false),
        (
            r#"{"a": {"b": ["x"]}}"#,
            r#"{"a": [{"b": "y"}, {"b": "x"}]}"#,
            true,
        ),
        // Fields of an array of objects must match in the same element.
        (
            r#"{"items": {"sku": ["A"], "qty": [2]}}"#,
            r#"{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}"#,
            false,
        ),
        (
            r#"{"items": {"sku": ["A"], "qty": [2]}}"#,
            r#"{"items": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}]}"#,
            true,
        ),
        // ... at every depth.
        (
            r#"{"o": {"id": ["o1"], "lines": {"sku": ["F"]}}}"#,
            r#"{"o": [{"id": "o0", "lines": [{"sku": "F"}]}, {"id": "o1", "lines": [{"sku": "G"}]}]}"#,
            false,
        ),
        // ... and inside $or branches.
        (
            r#"{"items": {"$or": [{"sku": ["A"], "qty": [2]}, {"sku": ["C"]}]}}"#,
            r#"{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}"#,
            false,
        ),
        // Fields outside the array are free.
        (
            r#"{"id": ["1"], "items": {"sku": ["A"]}}"#,
            r#"{"id": "1", "items": [{"sku": "B"}, {"sku": "A"}]}"#,
            true,
        ),
    ]);
}

#[test]
fn prefix_suffix_and_case() {
    check(&[
        (r#"{"a": [{"prefix": "ab"}]}"#, r#"{"a": "abc"}"#, true),
        (r#"{"a": [{"prefix": "ab"}]}"#, r#"{"a": "Abc"}"#, false),
        (r#"{"a": [{"prefix": ""}]}"#, r#"{"a": ""}"#, true),
        (r#"{"a": [{"prefix": "1"}]}"#, r#"{"a": 12}"#, false),
        (r#"{"a": [{"suffix": ".png"}]}"#, r#"{"a": "x.png"}"#, true),
        (r#"{"a": [{"suffix": ".png"}]}"#, r#"{"a": "x.PNG"}"#, false),
        (
            r#"{"a": [{"prefix": {"equals-ignore-case": "AB"}}]}"#,
            r#"{"a": "abc"}"#,
            true,
        ),
        (
            r#"{"a": [{"suffix": {"equals-ignore-case": ".PNG"}}]}"#,
            r#"{"a": "x.png"}"#,
            true,
        ),
        (
            r#"{"a": [{"equals-ignore-case": "HeLLo"}]}"#,
            r#"{"a": "hello"}"#,
            true,
        ),
        (
            r#"{"a": [{"equals-ignore-case": "HeLLo"}]}"#,
            r#"{"a": "hello!"}"#,
            false,
        ),
        (
            r#"{"a": [{"equals-ignore-case": "5"}]}"#,
            r#"{"a": 5}"#,
            false,
        ),
        // event-ruler compares quoted strings: a prefix of a lone quote matches "".
        (r#"{"a": [{"prefix": "\""}]}"#, r#"{"a": ""}"#, true),
        (r#"{"a": [{"prefix": "\""}]}"#, r#"{"a": "x"}"#, false),
    ]);
}

#[test]
fn wildcard() {
    check(&[
        (
            r#"{"a": [{"wildcard": "*.png"}]}"#,
            r#"{"a": "dir/x.png"}"#,
            true,
        ),
        (r#"{"a": [{"wildcard": "a*b*c"}]}"#, r#"{"a": "abc"}"#, true),
        (
            r#"{"a": [{"wildcard": "a*b*c"}]}"#,
            r#"{"a": "acb"}"#,
            false,
        ),
        (r#"{"a": [{"wildcard": "*"}]}"#, r#"{"a": ""}"#, true),
        (r#"{"a": [{"wildcard": "*"}]}"#, r#"{"a": 5}"#, false),
        (r#"{"a": [{"wildcard": "a\\*b"}]}"#, r#"{"a": "a*b"}"#, true),
        (
            r#"{"a": [{"wildcard": "a\\*b"}]}"#,
            r#"{"a": "axb"}"#,
            false,
        ),
        (
            r#"{"a": [{"wildcard": "a\\\\*"}]}"#,
            r#"{"a": "a\\bc"}"#,
            true,
        ),
    ]);
}

#[test]
fn anything_but() {
    check(&[
        (r#"{"a": [{"anything-but": "x"}]}"#, r#"{"a": "y"}"#, true),
        (r#"{"a": [{"anything-but": "x"}]}"#, r#"{"a": "x"}"#, false),
        (r#"{"a": [{"anything-but": "x"}]}"#, r#"{}"#, false),
        (r#"{"a": [{"anything-but": "x"}]}"#, r#"{"a": []}"#, false),
        (
            r#"{"a": [{"anything-but": "x"}]}"#,
            r#"{"a": ["x", "y"]}"#,
            true,
        ),
        (
            r#"{"a": [{"anything-but": "x"}]}"#,
            r#"{"a": ["x", "x"]}"#,
            false,
        ),
        // Values of another type are never excluded.
        (r#"{"a": [{"anything-but": "5"}]}"#, r#"{"a": 5}"#, true),
        (r#"{"a": [{"anything-but": "x"}]}"#, r#"{"a": null}"#, true),
        (
            r#"{"a": [{"anything-but": [5, 6]}]}"#,
            r#"{"a": 5.0}"#,
            false,
        ),
        (
            r#"{"a": [{"anything-but": [5, 6]}]}"#,
            r#"{"a": "5"}"#,
            true,
        ),
        (r#"{"a": [{"anything-but": [5]}]}"#, r#"{"a": 1e400}"#, true),
        (
            r#"{"a": [{"anything-but": {"prefix": "in"}}]}"#,
            r#"{"a": "init"}"#,
            false,
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": "in"}}]}"#,
            r#"{"a": "run"}"#,
            true,
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": "in"}}]}"#,
            r#"{"a": 5}"#,
            true,
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": ["a", "b"]}}]}"#,
            r#"{"a": "bc"}"#,
            false,
        ),
        (
            r#"{"a": [{"anything-but": {"suffix": ".tmp"}}]}"#,
            r#"{"a": "x.tmp"}"#,
            false,
        ),
        (
            r#"{"a": [{"anything-but": {"wildcard": "*.tmp"}}]}"#,
            r#"{"a": "x.tmp"}"#,
            false,
        ),
        (
            r#"{"a": [{"anything-but": {"wildcard": "*.tmp"}}]}"#,
            r#"{"a": "x.txt"}"#,
            true,
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": ["X", "Y"]}}]}"#,
            r#"{"a": "y"}"#,
            false,
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": ["X", "Y"]}}]}"#,
            r#"{"a": "z"}"#,
            true,
        ),
        (
            r#"{"a": [{"anything-but": {"prefix": []}}]}"#,
            r#"{"a": "z"}"#,
            true,
        ),
    ]);
}

#[test]
fn numeric() {
    check(&[
        (
            r#"{"n": [{"numeric": [">", 0]}]}"#,
            r#"{"n": 0.0001}"#,
            true,
        ),
        (r#"{"n": [{"numeric": [">", 0]}]}"#, r#"{"n": 0}"#, false),
        (r#"{"n": [{"numeric": [">=", 0]}]}"#, r#"{"n": -0.0}"#, true),
        (
            r#"{"n": [{"numeric": ["<", 10]}]}"#,
            r#"{"n": -1e300}"#,
            true,
        ),
        (r#"{"n": [{"numeric": ["<=", 10]}]}"#, r#"{"n": 10}"#, true),
        (
            r#"{"n": [{"numeric": ["=", 3.018e2]}]}"#,
            r#"{"n": 301.8}"#,
            true,
        ),
        (
            r#"{"n": [{"numeric": [">", 0, "<=", 5]}]}"#,
            r#"{"n": 5}"#,
            true,
        ),
        (
            r#"{"n": [{"numeric": [">", 0, "<", 5]}]}"#,
            r#"{"n": 5}"#,
            false,
        ),
        (r#"{"n": [{"numeric": [">", 0]}]}"#, r#"{"n": "5"}"#, false),
        (
            r#"{"n": [{"numeric": [">", 0]}]}"#,
            r#"{"n": 1e400}"#,
            false,
        ),
        (
            r#"{"n": [{"numeric": [">", 0]}]}"#,
            r#"{"n": 9007199254740993}"#,
            false,
        ),
        (
            r#"{"n": [{"numeric": [">", 1e-300]}]}"#,
            r#"{"n": 1e-299}"#,
            true,
        ),
        (
            r#"{"n": [{"numeric": [">", 1e300]}]}"#,
            r#"{"n": 1.7976931348623157e308}"#,
            true,
        ),
        (
            r#"{"n": [{"numeric": [">", 10]}]}"#,
            r#"{"n": [1, 20]}"#,
            true,
        ),
    ]);
}

#[test]
fn exists() {
    check(&[
        (r#"{"a": [{"exists": true}]}"#, r#"{"a": "x"}"#, true),
        (r#"{"a": [{"exists": true}]}"#, r#"{"a": null}"#, true),
        (r#"{"a": [{"exists": true}]}"#, r#"{"a": ""}"#, true),
        (r#"{"a": [{"exists": true}]}"#, r#"{"a": []}"#, false),
        (r#"{"a": [{"exists": true}]}"#, r#"{"a": {"b": 1}}"#, false),
        (r#"{"a": [{"exists": true}]}"#, r#"{}"#, false),
        (r#"{"a": [{"exists": false}]}"#, r#"{}"#, true),
        (r#"{"a": [{"exists": false}]}"#, r#"{"a": []}"#, true),
        (r#"{"a": [{"exists": false}]}"#, r#"{"a": {"b": 1}}"#, true),
        (r#"{"a": [{"exists": false}]}"#, r#"{"a": null}"#, false),
        (r#"{"a": {"b": [{"exists": false}]}}"#, r#"{"a": 5}"#, true),
        (r#"{"a": {"b": [{"exists": false}]}}"#, r#"{}"#, true),
        // exists:false only sees the array element already chosen for "a".
        (
            r#"{"x": {"a": ["1"], "b": [{"exists": false}]}}"#,
            r#"{"x": [{"a": "1"}, {"b": 2}]}"#,
            true,
        ),
        (
            r#"{"x": {"a": ["1"], "b": [{"exists": false}]}}"#,
            r#"{"x": [{"a": "1", "b": 2}]}"#,
            false,
        ),
        (r#"{"a": [{"exists": false}, "x"]}"#, r#"{"a": "x"}"#, true),
    ]);
}

#[test]
fn cidr() {
    check(&[
        (
            r#"{"ip": [{"cidr": "10.0.0.0/24"}]}"#,
            r#"{"ip": "10.0.0.255"}"#,
            true,
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/24"}]}"#,
            r#"{"ip": "10.0.1.0"}"#,
            false,
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.7/24"}]}"#,
            r#"{"ip": "10.0.0.1"}"#,
            true,
        ),
        (
            r#"{"ip": [{"cidr": "2001:db8::/32"}]}"#,
            r#"{"ip": "2001:db8:ffff::1"}"#,
            true,
        ),
        (
            r#"{"ip": [{"cidr": "2001:db8::/32"}]}"#,
            r#"{"ip": "10.0.0.1"}"#,
            false,
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/8"}]}"#,
            r#"{"ip": "not-an-ip"}"#,
            false,
        ),
        (
            r#"{"ip": [{"cidr": "10.0.0.0/8"}]}"#,
            r#"{"ip": 10}"#,
            false,
        ),
    ]);
}

#[test]
fn or_groups() {
    check(&[
        (
            r#"{"$or": [{"a": ["1"]}, {"b": ["2"]}]}"#,
            r#"{"b": "2"}"#,
            true,
        ),
        (
            r#"{"$or": [{"a": ["1"]}, {"b": ["2"]}]}"#,
            r#"{"c": "3"}"#,
            false,
        ),
        (
            r#"{"s": ["x"], "$or": [{"a": ["1"]}, {"b": ["2"]}]}"#,
            r#"{"s": "y", "a": "1"}"#,
            false,
        ),
        (
            r#"{"d": {"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}]}]}}"#,
            r#"{"d": {"c": "3"}}"#,
            true,
        ),
    ]);
}

#[test]
fn bad_events_are_errors_not_panics() {
    let limits = EventLimits {
        max_bytes: 64,
        max_depth: 4,
        ..EventLimits::default()
    };
    let err = |bytes: &[u8]| read_event(bytes, &limits).unwrap_err().to_string();
    assert_eq!(
        err(b"{\"a\": "),
        "event is not valid JSON: unexpected end of input, expected a JSON value at line 1 column 7"
    );
    assert_eq!(
        err(b"[1, 2]"),
        "an event must be a JSON object, found array"
    );
    assert_eq!(
        err(&[b' '; 65]),
        "event is 65 bytes, more than the limit of 64 bytes"
    );
    assert_eq!(
        err(b"{\"a\": [[[[1]]]]}"),
        "event is not valid JSON: nesting deeper than 4 levels at line 1 column 10"
    );
    assert_eq!(
        err(b"{\"a\": \"\xff\"}"),
        "event is not valid JSON: invalid UTF-8 at line 1 column 8"
    );
}
