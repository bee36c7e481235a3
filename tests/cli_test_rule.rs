//! `switchyard test-rule` and `serve`'s startup errors through the real binary:
//! exact output, exit codes, and every message a user's mistake gets.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const RULES: &str = r#"[
  {
    "Name": "orders",
    "EventPattern": {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}},
    "Targets": [
      {"Id": "summary", "Stdout": {},
       "InputTransformer": {"InputPathsMap": {"t": "$.detail.total"},
                            "InputTemplate": "{\"total\": <t>, \"rule\": \"<aws.events.rule-arn>\", \"at\": \"<aws.events.event.ingestion-time>\"}"}},
      {"Id": "bad", "Stdout": {},
       "InputTransformer": {"InputPathsMap": {"n": "$.detail.note"},
                            "InputTemplate": "{\"note\": \"<n>\"}"}},
      {"Id": "audit", "EventBus": {"Name": "audit"}}
    ]
  },
  {
    "Name": "audit-all", "EventBusName": "audit",
    "EventPattern": {"source": [{"prefix": ""}]},
    "Targets": [{"Id": "file", "File": {"Path": "audit.jsonl"}, "InputPath": "$.detail"}]
  },
  {
    "Name": "refunds",
    "EventPattern": {"source": ["shop"], "detail-type": ["Refund"]},
    "Targets": [{"Id": "t", "Stdout": {}}]
  }
]"#;

const EVENT: &str = r#"{"version": "0", "id": "e-1", "detail-type": "Order", "source": "shop",
  "account": "1", "time": "2024-05-01T10:00:00Z", "region": "r", "resources": [],
  "detail": {"total": 150, "note": "say \"hi\""}}"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/r.json"), RULES).unwrap();
    std::fs::write(dir.path().join("event.json"), EVENT).unwrap();
    dir
}

#[test]
fn shows_each_targets_bytes_follows_buses_and_explains() {
    let dir = setup();
    let (code, out, err) = run(
        dir.path(),
        &[
            "test-rule",
            "--rules",
            "rules",
            "--event",
            "event.json",
            "--explain",
            "--account",
            "123",
            "--region",
            "eu-west-1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let expected = [
        "rule orders (bus default): matched",
        "  target summary (stdout):",
        "    {\"total\": 150, \"rule\": \"arn:aws:events:eu-west-1:123:rule/orders\", \"at\": \"2024-05-01T10:00:00Z\"}",
        "  target bad (stdout):",
        "    error: InputTransformerInvalidJson: the InputTemplate starts like JSON but is not JSON once its placeholders are filled from this event: ",
    ];
    let lines: Vec<&str> = out.lines().collect();
    for (i, want) in expected.iter().enumerate() {
        assert!(
            lines[i].starts_with(want),
            "line {i}: {:?}\nwant {want:?}\n{out}",
            lines[i]
        );
    }
    assert!(
        lines[4].ends_with("(the event would go to the dead-letter destination)"),
        "{out}"
    );
    assert_eq!(lines[5], "  target audit (event bus audit):");
    assert!(
        lines[6].starts_with("    {\"version\":\"0\",\"id\":\"e-1\""),
        "{out}"
    );
    assert_eq!(lines[7], "    rule audit-all (bus audit): matched");
    assert_eq!(lines[8], "      target file (file audit.jsonl):");
    assert_eq!(
        lines[9],
        "        {\"total\":150,\"note\":\"say \\\"hi\\\"\"}"
    );
    assert_eq!(lines[10], "rule refunds (bus default): no match");
    assert_eq!(
        lines[11],
        "  - detail-type: wanted one of [\"Refund\"], event has \"Order\""
    );
    assert!(
        !dir.path().join("audit.jsonl").exists(),
        "a dry run delivers nothing"
    );
}

#[test]
fn json_output_one_object_per_target() {
    let dir = setup();
    let (code, out, _) = run(
        dir.path(),
        &[
            "test-rule",
            "--rules",
            "rules/r.json",
            "--event",
            "event.json",
            "--rule",
            "orders",
            "--json",
            "--ingestion-time",
            "2030-01-01T00:00:00Z",
        ],
    );
    assert_eq!(code, 0);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0]["rule"], "orders");
    assert_eq!(lines[0]["target"], "summary");
    assert_eq!(
        lines[0]["payload"],
        "{\"total\": 150, \"rule\": \"arn:aws:events:us-east-1:000000000000:rule/orders\", \"at\": \"2030-01-01T00:00:00Z\"}"
    );
    assert_eq!(lines[1]["target"], "bad");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("InputTransformerInvalidJson: ")
    );
    assert_eq!(
        lines[3]["rule"], "audit-all",
        "the forwarded event reaches the audit bus's rule"
    );
}

#[test]
fn no_match_exits_1_and_errors_exit_2() {
    let dir = setup();
    std::fs::write(
        dir.path().join("other.json"),
        r#"{"source": "nobody", "detail": {}}"#,
    )
    .unwrap();
    let (code, out, _) = run(
        dir.path(),
        &["test-rule", "--rules", "rules", "--event", "other.json"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "rule orders (bus default): no match\nrule refunds (bus default): no match\n"
    );

    let (code, _, err) = run(
        dir.path(),
        &[
            "test-rule",
            "--rules",
            "rules",
            "--event",
            "event.json",
            "--rule",
            "nope",
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(err, "switchyard test-rule: no rule named nope in rules\n");

    let (code, _, err) = run(
        dir.path(),
        &["test-rule", "--rules", "rules", "--event", "[1]"],
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "switchyard test-rule: event: an event must be a JSON object, found array\n"
    );

    let (code, _, err) = run(
        dir.path(),
        &["test-rule", "--rules", "missing", "--event", "event.json"],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("switchyard test-rule: cannot read the rule file missing: "),
        "{err}"
    );

    std::fs::write(dir.path().join("broken.json"), "{\"Name\": 1}").unwrap();
    let (code, _, err) = run(
        dir.path(),
        &[
            "test-rule",
            "--rules",
            "broken.json",
            "--event",
            "event.json",
        ],
    );
    assert_eq!(code, 2);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("broken.json:1:10: Name: "), "{err}");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("switchyard test-rule: no rule could be loaded from broken.json ("),
        "{err}"
    );
}

#[test]
fn serve_startup_errors_name_the_problem_and_exit_2() {
    let dir = setup();
    let (code, _, err) = run(
        dir.path(),
        &["serve", "--rules", "nowhere", "--listen", "127.0.0.1:0"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "switchyard serve: cannot watch the rules directory nowhere: No such file or directory"
        ),
        "{err}"
    );

    std::fs::write(
        dir.path().join("bad.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\nport = 1\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["serve", "--config", "bad.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("switchyard serve: bad.toml: TOML parse error at line 3, column 1"),
        "{err}"
    );
    assert!(err.contains("unknown field `port`"), "{err}");

    let (code, _, err) = run(dir.path(), &["serve", "--config", "absent.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("switchyard serve: cannot read config file absent.toml: "),
        "{err}"
    );

    std::fs::write(
        dir.path().join("zero.toml"),
        "[router]\nmax_in_flight_events = 0\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["serve", "--config", "zero.toml"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "switchyard serve: zero.toml: router.max_in_flight_events must be at least 1\n"
    );

    // Kafka flags and settings that cannot work.
    let (code, _, err) = run(dir.path(), &["serve", "--kafka-source", "orders"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "switchyard serve: --kafka-source needs --kafka-brokers (or kafka.brokers in the config)\n"
    );
    std::fs::write(
        dir.path().join("kafka.toml"),
        "[kafka.source]\ntopics = [\"orders\"]\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["serve", "--config", "kafka.toml"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "switchyard serve: kafka.toml: kafka.source.topics needs kafka.brokers (or --kafka-brokers)\n"
    );

    // A port already in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = run(
        dir.path(),
        &["serve", "--rules", "rules", "--listen", &addr],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("switchyard serve: cannot listen on {addr}: ")),
        "{err}"
    );
}
