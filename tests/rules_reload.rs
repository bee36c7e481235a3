//! Hot reload against a real directory and the real watcher (notify): every kind
//! of change becomes live within one second, broken files keep their last good
//! rules, and events matched during changes see exactly one rule-set version.

mod rules_support;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rules_support::{stdout_rule, wait_until, write_atomic};
use switchyard::rules::{RuleSet, RulesWatcher, WatchOptions};

const LIVE: Duration = Duration::from_secs(1);
const EVENT: &[u8] = br#"{"source": "load", "detail-type": "t", "detail": {}}"#;

/// What an event routes to under a snapshot: sorted `rule/target` pairs.
fn routes(set: &RuleSet) -> Vec<String> {
    let mut routes: Vec<String> = set
        .matching_rules("default", EVENT)
        .expect("event is valid")
        .iter()
        .flat_map(|r| {
            r.targets
                .iter()
                .map(move |t| format!("{}/{}", r.name, t.id))
        })
        .collect();
    routes.sort();
    routes
}

fn start(dir: &Path) -> RulesWatcher {
    RulesWatcher::start(WatchOptions::new(dir)).expect("watch the directory")
}

fn rules_text(rules: &[(&str, &str)]) -> String {
    let items: Vec<String> = rules
        .iter()
        .map(|(name, target)| stdout_rule(name, "load", target))
        .collect();
    format!("[{}]", items.join(",\n"))
}

fn wait_for_routes(watcher: &RulesWatcher, expected: &[&str], what: &str) {
    wait_until(what, LIVE, || routes(&watcher.snapshot()) == expected);
}

#[test]
fn added_file_goes_live() {
    let dir = tempfile::tempdir().unwrap();
    let watcher = start(dir.path());
    assert!(routes(&watcher.snapshot()).is_empty());
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "t")])).unwrap();
    wait_for_routes(&watcher, &["a1/t"], "a new file is loaded");
    assert_eq!(watcher.status().files[0].state, "ok");
}

#[test]
fn changed_file_goes_live() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "v1")])).unwrap();
    let watcher = start(dir.path());
    assert_eq!(routes(&watcher.snapshot()), ["a1/v1"]);
    std::fs::write(
        dir.path().join("a.json"),
        rules_text(&[("a1", "v2"), ("a2", "v2")]),
    )
    .unwrap();
    wait_for_routes(&watcher, &["a1/v2", "a2/v2"], "an edited file is reloaded");
}

#[test]
fn broken_file_keeps_its_last_good_version_and_reports_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "v1")])).unwrap();
    std::fs::write(dir.path().join("b.json"), rules_text(&[("b1", "v1")])).unwrap();
    let watcher = start(dir.path());
    std::fs::write(dir.path().join("a.json"), "[{\"Name\": \"a1\",").unwrap();
    std::fs::write(dir.path().join("b.json"), rules_text(&[("b1", "v2")])).unwrap();
    wait_for_routes(
        &watcher,
        &["a1/v1", "b1/v2"],
        "the good file changes, the broken one stays",
    );
    wait_until("status reports the broken file", LIVE, || {
        let status = watcher.status();
        status.files[0].state == "error" && status.files[0].rules == 1
    });
    let problem = watcher.status().files[0].problems[0].to_string();
    assert!(
        problem
            .ends_with("a.json:1:16: invalid JSON: unexpected end of input, expected a string key"),
        "{problem}"
    );
    // Fixing it loads the fixed version.
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "v3")])).unwrap();
    wait_for_routes(&watcher, &["a1/v3", "b1/v2"], "the fixed file is loaded");
    assert!(watcher.status().files.iter().all(|f| f.state == "ok"));
}

#[test]
fn deleted_file_removes_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "t")])).unwrap();
    std::fs::write(dir.path().join("b.json"), rules_text(&[("b1", "t")])).unwrap();
    let watcher = start(dir.path());
    std::fs::remove_file(dir.path().join("a.json")).unwrap();
    wait_for_routes(&watcher, &["b1/t"], "a deleted file's rules are gone");
    assert_eq!(watcher.status().files.len(), 1);
}

#[test]
fn editor_style_saves_through_temporary_files_and_renames() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "v1")])).unwrap();
    let watcher = start(dir.path());
    // Write a temporary file, then rename it over the rule file (most editors).
    write_atomic(dir.path(), "a.json", &rules_text(&[("a1", "v2")]));
    wait_for_routes(
        &watcher,
        &["a1/v2"],
        "a file replaced by rename is reloaded",
    );
    // Move the original to a backup, then write a new file (vim's backupcopy=no).
    std::fs::rename(dir.path().join("a.json"), dir.path().join("a.json~")).unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "v3")])).unwrap();
    wait_for_routes(
        &watcher,
        &["a1/v3"],
        "a file rewritten after a backup rename is reloaded",
    );
    // Renaming a rule file away from *.json unloads it.
    std::fs::rename(
        dir.path().join("a.json"),
        dir.path().join("a.json.disabled"),
    )
    .unwrap();
    wait_for_routes(&watcher, &[], "a file renamed away is unloaded");
    // None of the temporary or backup files were ever loaded as rules.
    assert!(watcher.status().files.is_empty(), "{:?}", watcher.status());
}

#[test]
fn force_reload_publishes_a_new_generation() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "t")])).unwrap();
    let watcher = start(dir.path());
    let before = watcher.snapshot().generation();
    watcher.force_reload();
    wait_until("a forced reload publishes", LIVE, || {
        watcher.snapshot().generation() > before
    });
    assert_eq!(routes(&watcher.snapshot()), ["a1/t"]);
}

#[test]
fn a_snapshot_in_use_is_not_changed_by_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), rules_text(&[("a1", "v1")])).unwrap();
    let watcher = start(dir.path());
    let in_flight = watcher.snapshot();
    std::fs::remove_file(dir.path().join("a.json")).unwrap();
    wait_for_routes(&watcher, &[], "the deletion is live");
    assert_eq!(routes(&in_flight), ["a1/v1"]);
}

/// The issue's test: events keep flowing while files are added, changed, broken
/// and deleted; each event's routes must be exactly those of one version of the
/// directory (never dropped, never a mix of two versions).
#[test]
fn events_routed_during_changes_see_exactly_one_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The expected rules per file, mirroring what the watcher should run.
    let mut model: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut allowed: HashSet<Vec<String>> = HashSet::new();
    let expected = |model: &BTreeMap<&str, Vec<(String, String)>>| -> Vec<String> {
        let mut r: Vec<String> = model
            .values()
            .flatten()
            .map(|(n, t)| format!("{n}/{t}"))
            .collect();
        r.sort();
        r
    };
    let text = |rules: &[(String, String)]| {
        let refs: Vec<(&str, &str)> = rules
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        rules_text(&refs)
    };
    let version = |names: &[&str], tag: &str| -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), tag.to_string()))
            .collect()
    };

    model.insert("a.json", version(&["a1", "a2"], "v0"));
    std::fs::write(d.join("a.json"), text(&model["a.json"])).unwrap();
    allowed.insert(expected(&model));
    let watcher = Arc::new(start(d));

    let stop = Arc::new(AtomicBool::new(false));
    let matcher = {
        let (watcher, stop) = (watcher.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen: HashSet<Vec<String>> = HashSet::new();
            let (mut events, mut last_generation) = (0u64, 0);
            let shared = watcher.shared();
            while !stop.load(Ordering::Relaxed) {
                let snapshot = shared.load();
                assert!(
                    snapshot.generation() >= last_generation,
                    "generations go forward"
                );
                last_generation = snapshot.generation();
                seen.insert(routes(&snapshot));
                events += 1;
            }
            (seen, events)
        })
    };

    for round in 0..2 {
        let tag = |step: u32| format!("r{round}s{step}");
        let mut step = |model: &mut BTreeMap<&str, Vec<(String, String)>>, what: &str| {
            let want = expected(model);
            allowed.insert(want.clone());
            let want: Vec<&str> = want.iter().map(String::as_str).collect();
            wait_for_routes(&watcher, &want, what);
        };
        model.insert("b.json", version(&["b1"], &tag(1)));
        std::fs::write(d.join("b.json"), text(&model["b.json"])).unwrap();
        step(&mut model, "add b.json");

        model.insert("a.json", version(&["a1", "a2", "a3"], &tag(2)));
        write_atomic(d, "a.json", &text(&model["a.json"]));
        step(&mut model, "change a.json by rename");

        std::fs::write(d.join("b.json"), "[{\"Name\": \"b1\", \"EventPattern\": ").unwrap();
        wait_until("b.json reported broken", LIVE, || {
            watcher
                .status()
                .files
                .iter()
                .any(|f| f.path.ends_with("b.json") && f.state == "error")
        });
        step(&mut model, "broken b.json keeps its rules");

        model.insert("b.json", version(&["b1", "b2"], &tag(4)));
        std::fs::write(d.join("b.json"), text(&model["b.json"])).unwrap();
        step(&mut model, "fix b.json in place");

        model.remove("a.json");
        std::fs::remove_file(d.join("a.json")).unwrap();
        step(&mut model, "delete a.json");

        model.insert("a.json", version(&["a1", "a2"], &tag(6)));
        write_atomic(d, "a.json", &text(&model["a.json"]));
        step(&mut model, "add a.json by rename");
    }

    stop.store(true, Ordering::Relaxed);
    let (seen, events) = matcher.join().expect("matching thread");
    assert!(
        events > 100,
        "the matching thread kept matching ({events} events)"
    );
    let unexpected: Vec<&Vec<String>> = seen.difference(&allowed).collect();
    assert!(
        unexpected.is_empty(),
        "routes of no single version: {unexpected:?}"
    );
    // Every version the test waited for was seen by the matching thread too.
    assert!(
        seen.len() >= 8,
        "versions seen while matching: {}",
        seen.len()
    );
}
