//! Loading whole directories: the example rules, checks across files, which files
//! count as rule files, the per-file last-good policy, and matching snapshots.

mod rules_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchyard::pattern::EventLimits;
use switchyard::rules::{
    Destination, DirectoryState, LoadOptions, RetryPolicy, RuleSet, TargetInput,
};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}

fn check(dir: &Path) -> Vec<String> {
    let (_, problems) = DirectoryState::check(LoadOptions::new(dir)).unwrap();
    problems
        .iter()
        .map(|p| p.to_string().replace(&*dir.to_string_lossy(), "DIR"))
        .collect()
}

fn rule(name: &str, extra: &str) -> String {
    format!("{{\"Name\": \"{name}\", \"EventPattern\": {{\"source\": [\"{name}\"]}}{extra}}}")
}

#[test]
fn example_rules_load_into_the_model() {
    let (state, problems) = DirectoryState::check(LoadOptions::new(examples())).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let rules = state.rules();
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ec2-state-changes",
            "orders-to-kafka",
            "audit-to-file",
            "s3-uploads-to-webhook",
            "signups-redacted",
            "orders-enriched"
        ]
    );
    let orders = &rules[1];
    assert_eq!(orders.event_bus_name, "default");
    let kafka = &orders.targets[0];
    let Destination::Kafka {
        topic,
        key_path,
        key,
        headers,
        ordered,
    } = &kafka.destination
    else {
        panic!("{kafka:?}")
    };
    assert_eq!(topic, "orders");
    assert_eq!((key, headers.len(), ordered), (&None, 0, &false));
    assert_eq!(
        key_path.as_ref().unwrap().normalized,
        "$['detail']['order-id']"
    );
    assert_eq!(
        kafka.retry_policy,
        RetryPolicy {
            maximum_retry_attempts: 10,
            maximum_event_age_in_seconds: 3600
        }
    );
    assert_eq!(
        kafka.dead_letter,
        Some(Destination::File {
            path: "dlq/orders.jsonl".into()
        })
    );
    let TargetInput::Transformer(t) = &kafka.input else {
        panic!("{:?}", kafka.input)
    };
    assert_eq!(t.input_paths_map.len(), 3);
    assert_eq!(
        orders.targets[1].destination,
        Destination::EventBus {
            name: "audit".into()
        }
    );
    assert_eq!(orders.targets[1].retry_policy, RetryPolicy::default());
    assert_eq!(orders.targets[1].input, TargetInput::MatchedEvent);
    let s3 = &rules[3];
    assert!(matches!(&s3.targets[0].input, TargetInput::Path(p) if p.text == "$.detail"));
}

#[test]
fn example_rules_route_example_events() {
    let (state, _) = DirectoryState::check(LoadOptions::new(examples())).unwrap();
    let set = RuleSet::build(1, state.rules(), EventLimits::default());
    let order = br#"{"source": "com.example.shop", "detail-type": "OrderPlaced",
        "detail": {"order-id": "o-1", "total": 250, "customer": {"id": "c-9"}}}"#;
    let names = |bus: &str, event: &[u8]| -> Vec<String> {
        set.matching_rules(bus, event)
            .unwrap()
            .iter()
            .map(|r| r.name.clone())
            .collect()
    };
    assert_eq!(
        names("default", order),
        ["orders-to-kafka", "orders-enriched"]
    );
    assert_eq!(names("audit", order), ["audit-to-file"]);
    assert!(names("other", order).is_empty());
    let upload = br#"{"source": "aws.s3", "detail-type": "Object Created",
        "detail": {"bucket": {"name": "media"}, "object": {"key": "uploads/cat.png"}}}"#;
    assert_eq!(names("default", upload), ["s3-uploads-to-webhook"]);
    assert!(set.matching_rules("default", b"not json").is_err());
    assert!(set.matching_rules("nobody", b"not json").is_err());
}

#[test]
fn disabled_rules_stay_in_the_set_but_never_match() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        rule("off", ", \"State\": \"DISABLED\""),
    )
    .unwrap();
    let (state, problems) = DirectoryState::check(LoadOptions::new(dir.path())).unwrap();
    assert!(problems.is_empty());
    let set = RuleSet::build(1, state.rules(), EventLimits::default());
    assert_eq!(set.rules().len(), 1);
    assert!(
        set.matching_rules("default", br#"{"source": "off"}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn duplicate_name_across_files_names_both_places() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rule("orders", "")).unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        format!("\n\n  {}", rule("orders", "")),
    )
    .unwrap();
    assert_eq!(
        check(dir.path()),
        [
            "DIR/b.json:3:12: rule \"orders\": the name is already used by the rule at DIR/a.json:1:10; rule names must be unique across the directory"
        ]
    );
}

#[test]
fn duplicate_name_within_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("[{},\n{}]", rule("x", ""), rule("x", ""));
    std::fs::write(dir.path().join("a.json"), text).unwrap();
    assert_eq!(
        check(dir.path()),
        [
            "DIR/a.json:2:10: rule \"x\": the name is already used by the rule at DIR/a.json:1:11; rule names must be unique across the directory"
        ]
    );
}

#[test]
fn event_bus_target_must_name_a_bus_some_rule_listens_on() {
    let dir = tempfile::tempdir().unwrap();
    let target = ", \"Targets\": [{\"Id\": \"fwd\", \"EventBus\": {\"Name\": \"audit\"}}]";
    std::fs::write(dir.path().join("a.json"), rule("fwd", target)).unwrap();
    assert_eq!(
        check(dir.path()),
        [
            "DIR/a.json:1:92: rule \"fwd\" target \"fwd\": event bus \"audit\" does not exist: no rule in the directory has \"EventBusName\": \"audit\""
        ]
    );
    // A rule on that bus in another file makes it exist.
    std::fs::write(
        dir.path().join("b.json"),
        rule("listener", ", \"EventBusName\": \"audit\""),
    )
    .unwrap();
    assert_eq!(check(dir.path()), Vec::<String>::new());
}

#[test]
fn file_that_is_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), b"{\n  \"Name\": \"\xff\"}").unwrap();
    assert_eq!(
        check(dir.path()),
        ["DIR/a.json:2:12: the file is not UTF-8 text"]
    );
}

#[test]
fn only_json_files_that_are_not_hidden_are_rules() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        ".#a.json",
        "a.json~",
        ".a.json.swp",
        "a.json.tmp",
        ".hidden.json",
        "notes.txt",
    ] {
        std::fs::write(dir.path().join(name), "not json at all").unwrap();
    }
    std::fs::create_dir(dir.path().join("sub.json")).unwrap();
    std::fs::write(dir.path().join("real.json"), rule("real", "")).unwrap();
    let (state, problems) = DirectoryState::check(LoadOptions::new(dir.path())).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(state.files().count(), 1);
}

#[test]
fn a_broken_file_keeps_its_last_good_rules_and_others_still_change() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, rule("a1", "")).unwrap();
    std::fs::write(&b, rule("b1", "")).unwrap();
    let mut state = DirectoryState::new(LoadOptions::new(dir.path()));
    assert!(state.refresh(false).unwrap());
    std::fs::write(&a, "{\"Name\": ").unwrap();
    std::fs::write(&b, rule("b2", "")).unwrap();
    assert!(state.refresh(false).unwrap());
    assert_eq!(names(&state.rules()), ["a1", "b2"]);
    let status = state.status();
    assert_eq!(status[0].state, "error");
    assert_eq!(status[0].rules, 1);
    assert_eq!(status[1].state, "ok");
    // Nothing changed: nothing to reload.
    assert!(!state.refresh(false).unwrap());
    std::fs::remove_file(&a).unwrap();
    assert!(state.refresh(false).unwrap());
    assert_eq!(names(&state.rules()), ["b2"]);
}

#[test]
fn a_name_clash_rejects_the_file_that_is_not_loaded_yet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.json"), rule("shared", "")).unwrap();
    let mut state = DirectoryState::new(LoadOptions::new(dir.path()));
    state.refresh(false).unwrap();
    // a.json sorts first, but b.json already runs "shared": a.json is rejected,
    // also on a forced full reload.
    std::fs::write(dir.path().join("a.json"), rule("shared", "")).unwrap();
    for force in [false, true] {
        state.refresh(force).unwrap();
        let status = state.status();
        assert_eq!((status[0].state, status[0].rules), ("error", 0));
        assert_eq!((status[1].state, status[1].rules), ("ok", 1));
    }
    // Once b.json renames its rule, a.json loads without being touched.
    std::fs::write(dir.path().join("b.json"), rule("other", "")).unwrap();
    state.refresh(false).unwrap();
    assert_eq!(names(&state.rules()), ["shared", "other"]);
    assert!(state.problems().is_empty());
}

#[test]
fn deleting_the_bus_a_loaded_rule_targets_is_reported_in_status() {
    let dir = tempfile::tempdir().unwrap();
    let target = ", \"Targets\": [{\"Id\": \"fwd\", \"EventBus\": {\"Name\": \"audit\"}}]";
    std::fs::write(dir.path().join("a.json"), rule("fwd", target)).unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        rule("listener", ", \"EventBusName\": \"audit\""),
    )
    .unwrap();
    let mut state = DirectoryState::new(LoadOptions::new(dir.path()));
    state.refresh(false).unwrap();
    assert!(state.problems().is_empty());
    std::fs::remove_file(dir.path().join("b.json")).unwrap();
    state.refresh(false).unwrap();
    // The forwarding rule keeps running (deleting must remove b's rules), and the
    // dangling target is reported against a.json.
    assert_eq!(names(&state.rules()), ["fwd"]);
    assert_eq!(state.status()[0].state, "error");
    assert_eq!(state.problems().len(), 1);
}

#[test]
fn plugins_resolve_beside_the_rules_directory_by_default() {
    let root = tempfile::tempdir().unwrap();
    let rules = root.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let target = ", \"Targets\": [{\"Id\": \"t\", \"Stdout\": {}, \"Transform\": {\"Plugin\": \"redact\", \"Config\": {\"fields\": [\"email\"]}}}]";
    std::fs::write(rules.join("a.json"), rule("a", target)).unwrap();
    assert_eq!(check(&rules).len(), 1);
    std::fs::create_dir(root.path().join("plugins")).unwrap();
    std::fs::write(root.path().join("plugins/redact.wasm"), b"\0asm").unwrap();
    let (state, problems) = DirectoryState::check(LoadOptions::new(&rules)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let transform = state.rules()[0].targets[0].transform.clone().unwrap();
    assert_eq!(transform.config, r#"{"fields": ["email"]}"#);
}

#[test]
fn input_may_be_json_text_or_a_json_value() {
    for input in [r#""{\"a\": 1}""#, r#"{"a": 1}"#] {
        let target =
            format!(", \"Targets\": [{{\"Id\": \"t\", \"Stdout\": {{}}, \"Input\": {input}}}]");
        assert_eq!(
            rules_support::problems(&rule("r", &target)),
            Vec::<String>::new()
        );
    }
}

fn names(rules: &[Arc<switchyard::rules::Rule>]) -> Vec<&str> {
    rules.iter().map(|r| r.name.as_str()).collect()
}
