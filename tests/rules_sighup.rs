//! SIGHUP forces a full reload. Its own test binary: the signal goes to this
//! whole process, and the watcher's handler must be installed before it is raised.

mod rules_support;

use std::time::Duration;

use rules_support::wait_until;
use switchyard::rules::{RulesWatcher, WatchOptions};

#[test]
fn sighup_reloads_what_file_events_do_not_show() {
    let root = tempfile::tempdir().unwrap();
    let rules = root.path().join("rules");
    let plugins = root.path().join("plugins");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        rules.join("a.json"),
        r#"{"Name": "a", "EventPattern": {"source": ["x"]},
            "Targets": [{"Id": "t", "Stdout": {}, "Transform": {"Plugin": "redact"}}]}"#,
    )
    .unwrap();
    let mut watcher = RulesWatcher::start(WatchOptions::new(&rules)).unwrap();
    watcher.reload_on_sighup().unwrap();
    assert!(
        watcher.snapshot().rules().is_empty(),
        "the plugin is missing"
    );
    let generation = watcher.snapshot().generation();

    // The plugins directory is not watched: adding a plugin needs a reload.
    std::fs::write(plugins.join("redact.wasm"), b"\0asm").unwrap();
    signal_hook::low_level::raise(signal_hook::consts::SIGHUP).unwrap();
    wait_until("SIGHUP reloads the rule", Duration::from_secs(1), || {
        watcher.snapshot().rules().len() == 1
    });
    assert!(watcher.snapshot().generation() > generation);
    assert_eq!(watcher.status().files[0].state, "ok");
}
