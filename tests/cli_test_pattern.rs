//! `switchyard test-pattern` as a user runs it: the real binary, real files,
//! standard input, exit codes and the exact text printed.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn switchyard(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchyard");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("run switchyard");
    writer.join().unwrap().ok();
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const PATTERN: &str = "examples/ec2-running.pattern.json";
const STOPPED: &str = "examples/ec2-stopped.event.json";

#[test]
fn match_exits_zero() {
    let out = switchyard(
        &[
            "test-pattern",
            "--pattern",
            r#"{"detail": {"state": ["stopped"]}}"#,
            "--event",
            STOPPED,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "match\n");
}

#[test]
fn no_match_exits_one_and_explains_every_failure() {
    let out = switchyard(
        &[
            "test-pattern",
            "--explain",
            "--pattern",
            PATTERN,
            "--event",
            STOPPED,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        r#"no match
- detail.state: wanted one of ["running"], event has "stopped"
- detail.size: missing (wanted one of [{"numeric": [">=", 100]}])
- detail.$or: none of the 2 branches matched
    detail.$or[0]:
      - detail.tags.team: wanted one of ["payments"], event has "search"
    detail.$or[1]:
      - detail.ip: wanted one of [{"cidr": "10.0.0.0/8"}], event has "192.168.1.20"
"#
    );
    // Without --explain only the verdict is printed.
    let out = switchyard(
        &["test-pattern", "--pattern", PATTERN, "--event", STOPPED],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "no match\n");
}

#[test]
fn explain_names_objects_empty_arrays_and_array_elements() {
    let out = switchyard(
        &[
            "test-pattern",
            "--explain",
            "--pattern",
            r#"{"a": ["x"], "b": ["y"], "items": {"sku": ["A"], "qty": [2]}}"#,
            "--event",
            r#"{"a": {"nested": 1}, "b": [], "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}"#,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        r#"no match
- a: event has an object here, but patterns match values (wanted one of ["x"]; name the fields inside instead)
- b: event has an empty array (wanted one of ["y"])
"#
    );
    let out = switchyard(
        &[
            "test-pattern",
            "--explain",
            "--pattern",
            r#"{"items": {"sku": ["A"], "qty": [2]}}"#,
            "--event",
            r#"{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}"#,
        ],
        "",
    );
    assert_eq!(
        text(&out.stdout),
        "no match\n- each field matches on its own, but not within the same array element: items.sku, items.qty\n"
    );
}

#[test]
fn pattern_and_event_can_come_from_stdin() {
    let out = switchyard(
        &["test-pattern", "--pattern", "-", "--event", STOPPED],
        r#"{"source": ["aws.ec2"]}"#,
    );
    assert_eq!(out.status.code(), Some(0));
    let out = switchyard(
        &[
            "test-pattern",
            "--pattern",
            r#"{"source": ["aws.s3"]}"#,
            "--event",
            "-",
        ],
        r#"{"source": "aws.s3"}"#,
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn invalid_input_exits_two_with_the_reason() {
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--pattern",
                "{\n  \"detail\": {\n    \"state\": [{\"prefix\": 5}]\n  }\n}",
                "--event",
                STOPPED,
            ],
            "invalid pattern: detail.state[0]: \"prefix\" takes a string or {\"equals-ignore-case\": string}, found number (line 3, column 26)\n",
        ),
        (
            &["--pattern", "{\"a\": [\"x\"", "--event", STOPPED],
            "invalid pattern: pattern is not valid JSON: unexpected end of input, expected ',' or ']' at line 1 column 11\n",
        ),
        (
            &["--pattern", PATTERN, "--event", "{\"a\": 1,}"],
            "invalid event: event is not valid JSON: unexpected '}', expected a string key at line 1 column 9\n",
        ),
        (
            &["--pattern", PATTERN, "--event", "[1]"],
            "invalid event: an event must be a JSON object, found array\n",
        ),
        (
            &["--pattern", "no/such/file.json", "--event", STOPPED],
            "cannot read pattern file \"no/such/file.json\": No such file or directory (os error 2) (give a file path, inline JSON starting with '{', or - for standard input)\n",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["test-pattern"];
        full.extend_from_slice(args);
        let out = switchyard(&full, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), expected, "{args:?}");
        assert_eq!(text(&out.stdout), "");
    }
}

#[test]
fn missing_arguments_are_usage_errors() {
    let out = switchyard(&["test-pattern", "--pattern", PATTERN], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the following required arguments were not provided"),
        "{}",
        text(&out.stderr)
    );
    let out = switchyard(&["test-pattern", "--batch", "-", "--pattern", PATTERN], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot be used with"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn batch_reports_every_case_in_order_and_survives_bad_lines() {
    let input = [
        r#"{"id": "m", "pattern": {"a": ["1"]}, "event": {"a": "1"}}"#,
        r#"{"id": 2, "pattern": {"a": ["1"]}, "event": {"a": "2"}}"#,
        "",
        r#"{"id": "bad-pattern", "pattern": {"a": "1"}, "event": {}}"#,
        r#"{"id": "bad-event", "pattern": {"a": ["1"]}, "event": [1]}"#,
        r#"not json"#,
        r#"{"id": "no-event", "pattern": {"a": ["1"]}}"#,
        r#"{"id": "big-number", "pattern": {"n": [1e400]}, "event": {"n": 1e400}}"#,
    ]
    .join("\n");
    let out = switchyard(&["test-pattern", "--batch", "-"], &input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        r#"{"id":"m","result":"match"}
{"id":2,"result":"no-match"}
{"id":"bad-pattern","result":"invalid","error":"invalid pattern: a: a field must be an array of match values (e.g. [\"value\"]) or an object of fields, found string"}
{"id":"bad-event","result":"invalid","error":"invalid event: an event must be a JSON object, found array"}
{"id":null,"result":"invalid","error":"line 6 is not valid JSON: unexpected 'n', expected a JSON value at line 1 column 1"}
{"id":"no-event","result":"invalid","error":"line 7 needs both \"pattern\" and \"event\""}
{"id":"big-number","result":"match"}
"#
    );
}

#[test]
fn batch_can_explain_and_handles_thousands_of_cases() {
    let mut input = String::new();
    for i in 0..5000 {
        input.push_str(&format!(
            "{{\"id\": {i}, \"pattern\": {{\"n\": [{{\"numeric\": [\">=\", 2500]}}]}}, \"event\": {{\"n\": {i}}}}}\n"
        ));
    }
    let out = switchyard(&["test-pattern", "--batch", "-", "--explain"], &input);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["id"], i);
        let expected = if i >= 2500 { "match" } else { "no-match" };
        assert_eq!(line["result"], expected);
    }
    assert_eq!(
        lines[7]["explanation"],
        r#"- n: wanted one of [{"numeric": [">=", 2500]}], event has 7"#
    );
}

#[test]
fn batch_file_that_does_not_exist_exits_two() {
    let out = switchyard(&["test-pattern", "--batch", "missing.jsonl"], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "cannot read \"missing.jsonl\": No such file or directory (os error 2)\n"
    );
}

#[test]
fn too_complex_wildcards_are_invalid_unless_the_limit_is_raised() {
    let pattern = "{\n  \"EventBusArn\": [{\"wildcard\": \"*:*:*:*:*:event-bus/*\"}]\n}";
    let event = r#"{"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/default"}"#;
    let out = switchyard(
        &["test-pattern", "--pattern", pattern, "--event", event],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "invalid pattern: EventBusArn: Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character (wildcard complexity is more than the limit of 10) (line 2, column 18)\n"
    );
    let out = switchyard(
        &[
            "test-pattern",
            "--pattern",
            pattern,
            "--event",
            event,
            "--max-wildcard-complexity",
            "20",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "match\n");
}

#[test]
fn an_event_past_the_search_budget_is_invalid_not_a_stall() {
    // Every combination of one object from each array is consistent, and the
    // pattern fails only at the end: 10^6 combinations per element.
    let objects = [r#"{"v": 1}"#; 10].join(",");
    let element = format!(
        r#"{{"f0": [{objects}], "f1": [{objects}], "f2": [{objects}], "f3": [{objects}], "f4": [{objects}], "f5": [{objects}], "z": 1}}"#
    );
    let event = format!(r#"{{"x": [{}]}}"#, vec![element; 20].join(","));
    let pattern = r#"{"x": {"f0": {"v": [1]}, "f1": {"v": [1]}, "f2": {"v": [1]}, "f3": {"v": [1]}, "f4": {"v": [1]}, "f5": {"v": [1]}, "z": [{"exists": false}]}}"#;
    let out = switchyard(
        &["test-pattern", "--pattern", pattern, "--event", "-"],
        &event,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "invalid event: matching this event needs more than 10000000 steps of the array-consistency search (limit 10000000): its arrays hold too many combinations of values for the patterns that name them to be checked\n"
    );
}
