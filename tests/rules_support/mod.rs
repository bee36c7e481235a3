//! Helpers shared by the rules test files (`tests/rules_*.rs`).
#![allow(dead_code)]

use std::path::Path;

use switchyard::rules::parse::{ParseContext, parse_file};

/// The problems of one rule file named `r.json`, as `check` prints them. Plugins
/// resolve in this crate's `tests/data/plugins`, which holds `present.wasm`.
pub fn problems(text: &str) -> Vec<String> {
    let context =
        ParseContext::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plugins"));
    parse_file(Path::new("r.json"), text, &context)
        .problems
        .iter()
        .map(|p| {
            p.to_string()
                .replace(&*context.plugins_dir.to_string_lossy(), "PLUGINS")
        })
        .collect()
}

/// Writes `text` to `dir/name` through a temporary file and a rename, the way
/// editors save, so that a reader never sees a half-written file.
pub fn write_atomic(dir: &Path, name: &str, text: &str) {
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, dir.join(name)).unwrap();
}

/// Polls `ready` until it holds or `within` has passed; panics naming `what`.
pub fn wait_until(what: &str, within: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A rule matching events whose source is `source`, with one stdout target `target`.
pub fn stdout_rule(name: &str, source: &str, target: &str) -> String {
    format!(
        r#"{{"Name": "{name}", "EventPattern": {{"source": ["{source}"]}}, "Targets": [{{"Id": "{target}", "Stdout": {{}}}}]}}"#
    )
}
