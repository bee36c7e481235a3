//! Helpers shared by the rules test files.
#![allow(dead_code)]

use std::path::Path;

use switchyard::rules::parse::{ParseContext, parse_file};

/// The problems of one rule file named `r.json`, as `check` prints them. Plugins
/// resolve in this crate's `tests/data/plugins`, which holds `present.wasm`.
pub fn problems(text: &str) -> Vec<String> {
    let context = ParseContext {
        plugins_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/plugins"),
    };
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
