//! Following the plugins directory: a changed, added or removed `.wasm` file is
//! loaded into the registry off the hot path, and then the rules are reloaded
//! so that targets bind the new version (and rules that were rejected for a
//! missing plugin load). A file that fails to load leaves its previous version
//! running; the registry's status says why.

use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use super::PluginHost;

/// Watches while alive.
pub struct PluginWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
}

impl PluginWatcher {
    /// Calls `changed` (on the watcher's thread) after a refresh that changed a
    /// running plugin. Fails when the directory cannot be watched.
    pub fn start(
        host: Arc<PluginHost>,
        debounce: Duration,
        changed: impl Fn() + Send + 'static,
    ) -> Result<PluginWatcher, String> {
        let dir = host.dir().to_path_buf();
        let mut debouncer = new_debouncer(debounce, move |result: DebounceEventResult| {
            if let Err(e) = &result {
                tracing::warn!("watching the plugins directory: {e}");
            }
            if host.refresh() {
                changed();
            }
        })
        .map_err(|e| e.to_string())?;
        debouncer
            .watcher()
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch the plugins directory {}: {e}", dir.display()))?;
        Ok(PluginWatcher {
            _debouncer: debouncer,
        })
    }
}
