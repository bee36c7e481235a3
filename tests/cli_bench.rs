//! `switchyard bench`: generating data, timing it, and the errors a user can hit.

use std::process::{Command, Output};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .output()
        .expect("run switchyard")
}

/// `switchyard bench match --patterns P --events E` plus `extra` arguments.
fn bench_match(patterns: &str, events: &str, extra: &[&str]) -> Output {
    let mut args = vec!["bench", "match", "--patterns", patterns, "--events", events];
    args.extend_from_slice(extra);
    switchyard(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn generate_then_match_prints_one_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let generated = switchyard(&[
        "bench",
        "generate",
        "--family",
        "prefix",
        "--envelope",
        "--events",
        "200",
        "--out",
        out,
    ]);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        text(&generated.stderr)
    );
    let patterns = format!("{out}/patterns.jsonl");
    let events = format!("{out}/events.jsonl");
    let timed = bench_match(&patterns, &events, &["--passes", "2"]);
    assert_eq!(timed.status.code(), Some(0), "{}", text(&timed.stderr));
    let line = text(&timed.stdout);
    assert_eq!(line.lines().count(), 1);
    let report: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(report["engine"], "switchyard");
    assert_eq!(report["patterns"], 5);
    assert_eq!(report["rejected"], 0);
    assert_eq!(report["events"], 200);
    assert_eq!(report["passes"], 2);
    assert!(report["matches_per_pass"].as_u64().unwrap() > 0);
    for field in [
        "events_per_sec",
        "ns_per_event",
        "add_seconds",
        "checked_ns_per_event",
    ] {
        assert!(report[field].as_f64().unwrap() > 0.0, "{field}");
    }
}

#[test]
fn rejected_patterns_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let patterns = dir.path().join("p.jsonl");
    let events = dir.path().join("e.jsonl");
    std::fs::write(&patterns, "{\"id\": \"ok\", \"pattern\": {\"a\": [\"x\"]}}\n{\"id\": \"bad\", \"pattern\": {\"a\": \"x\"}}\n").unwrap();
    std::fs::write(&events, "{\"a\": \"x\"}\n").unwrap();
    let out = bench_match(
        patterns.to_str().unwrap(),
        events.to_str().unwrap(),
        &["--passes", "1"],
    );
    let report: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(
        (report["patterns"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["matches_per_pass"], 1);
}

#[test]
fn errors_say_what_is_wrong() {
    let out = switchyard(&["bench", "generate", "--family", "regex", "--out", "/tmp/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "unknown family \"regex\"; use one of exact, prefix, suffix, prefix-equals-ignore-case, suffix-equals-ignore-case, equals-ignore-case, wildcard, numeric, anything-but, array-of-objects-numeric, cidr, exact-10000, prefix-1000, mixed-1000-or\n"
    );
    let out = bench_match("no-such.jsonl", "no-such.jsonl", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "cannot read \"no-such.jsonl\": No such file or directory (os error 2)\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let patterns = dir.path().join("p.jsonl");
    std::fs::write(&patterns, "{\"id\": 1}\n").unwrap();
    let out = bench_match(patterns.to_str().unwrap(), patterns.to_str().unwrap(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "patterns line 1: needs \"id\" and \"pattern\"\n"
    );
    let out = bench_match("p", "e", &["--passes", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--passes"),
        "{}",
        text(&out.stderr)
    );
}
