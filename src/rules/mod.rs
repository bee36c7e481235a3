//! Rule files: their format, validation, loading a directory of them, and keeping a
//! live, atomically swapped snapshot of the rules while the directory changes.
//!
//! - `model` is the validated data (rules, targets, destinations).
//! - `parse` reads one file into rules, or into every problem it has, each with
//!   file, line and column.
//! - `directory` holds the per-file state of a rules directory and the checks across
//!   files (unique names, event buses that exist); `switchyard check` and the watcher
//!   both load through it, so they agree.
//! - `snapshot` is the immutable rule set the router matches events against.
//! - `watch` follows the directory (notify, debounced, SIGHUP) and swaps snapshots.
//!
//! Nothing here matches patterns itself (that is `crate::pattern`), shapes event
//! input or delivers to targets (later stages read the model).

pub mod directory;
pub mod model;
pub mod parse;
pub mod snapshot;
pub mod watch;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use directory::{DirectoryState, FileState, FileStatus, LoadOptions};
pub use model::{
    Destination, InputTransformer, JsonPath, Position, RetryPolicy, Rule, RuleState, Target,
    TargetInput, Transform, TransformLimits,
};
pub use snapshot::RuleSet;
pub use watch::{PublishHook, Reloader, RulesWatcher, Status, WatchOptions};

/// What loading rules asks of the plugin host (`crate::transform::wasm`):
/// whether a target's `Transform` runs, for that rule and target. The error is
/// the problem reported at the `Transform` (a missing or broken plugin, or
/// `init` refusing the `Config`).
pub trait PluginCheck: Send + Sync {
    fn check(&self, transform: &Transform, rule: &str, target: &str) -> Result<(), String>;
}

/// A shared [`PluginCheck`], for load options.
#[derive(Clone)]
pub struct PluginChecker(pub std::sync::Arc<dyn PluginCheck>);

impl fmt::Debug for PluginChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PluginChecker")
    }
}

/// Something wrong in a rule file, where it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    /// `rules/orders.json:12:7: Targets[0].Id: ...`, the form editors and CI
    /// annotations understand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}
