//! EventBridge conformance: every public case labelled by aws/event-ruler runs
//! through `switchyard test-pattern --batch` (the real binary), and the test fails
//! listing each case where switchyard disagrees.

use std::io::Write;
use std::process::{Command, Stdio};

const CASES: &str = include_str!("data/eb-conformance-public.jsonl");

#[test]
fn batch_agrees_with_every_public_eventbridge_case() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        // The labels come from event-ruler's `Machine`, which has no wildcard
        // complexity limit (EventBridge applies one when a rule is created, and
        // multi-op-0031 is past it), so the limit is lifted here.
        .args([
            "test-pattern",
            "--batch",
            "-",
            "--max-wildcard-complexity",
            "1000000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start switchyard");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(CASES.as_bytes()));
    let output = child.wait_with_output().expect("run switchyard");
    writer.join().unwrap().expect("write cases");
    assert!(output.status.success(), "batch run failed: {output:?}");

    let results: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("output line is JSON"))
        .collect();
    // Cases hold numbers such as 1e400 that serde_json refuses; read them with the
    // project's number-preserving reader.
    let cases: Vec<Case> = CASES.lines().map(Case::read).collect();
    assert_eq!(results.len(), cases.len(), "one result per case");
    assert!(cases.len() >= 784);

    let mut disagreements = Vec::new();
    for (case, result) in cases.iter().zip(&results) {
        assert_eq!(case.id, result["id"], "results come back in input order");
        if case.expect != result["result"] {
            disagreements.push(format!(
                "{}: expected {}, got {} {}\n    pattern: {}\n    event: {}",
                case.id,
                case.expect,
                result["result"],
                result
                    .get("error")
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
                case.pattern,
                case.event,
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree with EventBridge:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
}

struct Case {
    id: String,
    expect: String,
    pattern: String,
    event: String,
}

impl Case {
    fn read(line: &str) -> Case {
        let doc = switchyard::json::parse(line, 256).expect("case is JSON");
        let switchyard::json::JsonValue::Object(members) = doc.value else {
            panic!("case is not an object: {line}")
        };
        let field = |name: &str| {
            let value = &members.iter().find(|m| m.key == name).expect(name).value;
            match &value.value {
                switchyard::json::JsonValue::String(s) if name != "pattern" => s.clone(),
                _ => value.to_string(),
            }
        };
        Case {
            id: field("id"),
            expect: field("expect"),
            pattern: field("pattern"),
            event: field("event"),
        }
    }
}
