//! Where the tests find the plugins that `scripts/build-plugins.sh` built: the
//! examples in `plugins/<name>.wasm`, the hostile ones in
//! `target/test-plugins/<name>.wasm`. A missing file fails the test loudly with
//! the command that builds it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn plugin_file(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["plugins", "target/test-plugins"] {
        let path = root.join(dir).join(format!("{name}.wasm"));
        if path.is_file() {
            return path;
        }
    }
    panic!(
        "plugin {name}.wasm is not built: run scripts/build-plugins.sh (scripts/test.sh does) \
         to build plugins/*.wasm and target/test-plugins/*.wasm"
    );
}

/// Copies plugins into `dir` (created), as `<name>.wasm`.
pub fn install(dir: &Path, names: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for name in names {
        std::fs::copy(plugin_file(name), dir.join(format!("{name}.wasm"))).unwrap();
    }
}

/// A compile cache shared by the test binaries of one build (each plugin is
/// compiled once per machine, not once per test).
pub fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/plugin-cache")
}
