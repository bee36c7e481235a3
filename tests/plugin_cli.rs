//! The plugin author's commands against the real binary: `plugin new` scaffolds
//! a crate that builds to a component and passes its own test, `plugin check`
//! and `plugin test` load components the way the server does, `check` rejects
//! rules whose plugin cannot run, and `test-rule` shows what each target would
//! receive after its plugin ran.

mod plugin_support;

use std::path::Path;
use std::process::{Command, Output};

use plugin_support::{install, plugin_file};

fn switchyard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-cache"),
        )
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const EVENT: &str = r#"{"version":"0","id":"e-1","detail-type":"Signup","source":"shop","account":"1","time":"2024-01-01T00:00:00Z","region":"r","resources":[],"detail":{"email":"ada@example.com","items":[{"sku":"a"},{"sku":"b"}]}}"#;

#[test]
fn plugin_check_prints_the_interface_or_why_it_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let redact = plugin_file("redact");
    let out = switchyard(
        &[
            "plugin",
            "check",
            redact.to_str().unwrap(),
            "--config",
            r#"{"fields": ["detail.email"]}"#,
        ],
        dir.path(),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("imports:\n"), "{stdout}");
    assert!(stdout.contains("  wasi:cli/stderr@0.2.6\n"), "{stdout}");
    assert!(
        stdout.contains("exports:\n  init (function)\n  transform (function)\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("ok: a valid switchyard:plugin/transformer@0.1.0 component\n"));

    let out = switchyard(&["plugin", "check", redact.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout)
            .contains("invalid: plugin \"redact\": init refused its Config: redact: \"fields\""),
        "{}",
        text(&out.stdout)
    );

    let fs = plugin_file("fs-import");
    let out = switchyard(&["plugin", "check", fs.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with(
            "invalid: plugin \"fs-import\" did not load: it imports `wasi:filesystem/types@0.2.6`"
        ),
        "{}",
        text(&out.stdout)
    );

    let out = switchyard(&["plugin", "check", "missing.wasm"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "switchyard plugin: cannot read missing.wasm: no such file\n"
    );
}

#[test]
fn plugin_test_runs_one_event_in_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let split = plugin_file("split");
    let out = switchyard(
        &[
            "plugin",
            "test",
            split.to_str().unwrap(),
            "--event",
            EVENT,
            "--config",
            r#"{"path": "detail.items"}"#,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["id"], "e-1-1");
    assert_eq!(lines[1]["detail"]["items"]["sku"], "b");
    assert!(text(&out.stderr).ends_with("2 outputs\n"));

    let panic = plugin_file("panic");
    let out = switchyard(
        &["plugin", "test", panic.to_str().unwrap(), "--event", EVENT],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("PluginTrap: the plugin trapped during transform: wasm trap: wasm `unreachable` instruction executed: panicked at "), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("boom: the plugin panicked on purpose"),
        "{stdout}"
    );
}

#[test]
fn check_and_test_rule_run_plugins_like_the_server() {
    let dir = tempfile::tempdir().unwrap();
    install(
        &dir.path().join("plugins"),
        &["redact", "split", "fs-import"],
    );
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let rule = serde_json::json!([{
        "Name": "signups",
        "EventPattern": {"source": ["shop"]},
        "Targets": [
            {"Id": "masked", "Stdout": {}, "Transform": {"Plugin": "redact", "Config": {"fields": ["detail.email"]}}},
            {"Id": "items", "Stdout": {}, "Transform": {"Plugin": "split", "Config": {"path": "detail.items"}}}
        ]
    }]);
    std::fs::write(dir.path().join("rules/signups.json"), rule.to_string()).unwrap();

    let out = switchyard(&["check", "rules"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let out = switchyard(
        &["test-rule", "--rules", "rules", "--event", EVENT, "--json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "one masked event, two split ones: {lines:?}"
    );
    let masked: serde_json::Value =
        serde_json::from_str(lines[0]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(lines[0]["target"], "masked");
    assert_eq!(masked["detail"]["email"], "REDACTED");
    assert_eq!(lines[2]["target"], "items");

    let out = switchyard(
        &["test-rule", "--rules", "rules", "--event", EVENT],
        dir.path(),
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("  target masked (stdout, via plugin redact):\n"),
        "{stdout}"
    );

    // A rule whose plugin may not run is a problem at its Transform.
    let bad = serde_json::json!([{
        "Name": "bad", "EventPattern": {"source": ["x"]},
        "Targets": [{"Id": "t", "Stdout": {}, "Transform": {"Plugin": "fs-import", "Limits": {"TimeoutMilliseconds": 0}}}]
    }]);
    std::fs::write(dir.path().join("rules/bad.json"), bad.to_string()).unwrap();
    let out = switchyard(&["check", "rules"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rules/bad.json:1:147: [0].Targets[0].Transform.Limits.TimeoutMilliseconds: 0 is out of range: use 1 to 60000\n"),
        "{stdout}"
    );
    let bad = bad
        .to_string()
        .replace(r#","Limits":{"TimeoutMilliseconds":0}"#, "");
    std::fs::write(dir.path().join("rules/bad.json"), bad).unwrap();
    let out = switchyard(&["check", "rules"], dir.path());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[0].Targets[0].Transform: plugin \"fs-import\" did not load: it imports `wasi:filesystem/types@0.2.6`"),
        "{stdout}"
    );
}

#[test]
fn plugin_new_scaffolds_a_crate_that_builds_and_passes_its_test() {
    let dir = tempfile::tempdir().unwrap();
    let out = switchyard(&["plugin", "new", "Bad Name"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "switchyard plugin: \"Bad Name\" is not a plugin name: use lowercase letters, digits, '-' and '_', starting with a letter\n"
    );

    let out = switchyard(&["plugin", "new", "tagger", "--sdk", "nowhere"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .starts_with("switchyard plugin: cannot find the switchyard-plugin SDK at nowhere: "),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).ends_with("(give its directory with --sdk)\n"));

    let out = switchyard(&["plugin", "new", "tagger"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let again = switchyard(&["plugin", "new", "tagger"], dir.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).ends_with("tagger already exists\n"));

    // The scaffold's dependencies are the plugins workspace's: share its build.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/target");
    let crate_dir = dir.path().join("tagger");
    let cargo = |args: &[&str]| {
        let out = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&crate_dir)
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo {args:?}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let tests = cargo(&["test", "--quiet"]);
    assert!(tests.contains("test result: ok."), "{tests}");
    cargo(&["build", "--target", "wasm32-wasip2", "--release", "--quiet"]);
    let wasm = target.join("wasm32-wasip2/release/tagger.wasm");
    let out = switchyard(
        &[
            "plugin",
            "test",
            wasm.to_str().unwrap(),
            "--event",
            EVENT,
            "--config",
            r#"{"label": "mine"}"#,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let event: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(event["detail"]["processed-by"], "mine");
}
