//! Wasm transformation plugins: user code compiled to a WebAssembly component
//! (world `switchyard:plugin/transformer@0.1.0`, `plugins/wit`) that reshapes
//! what a target receives, run in wasmtime with hard limits.
//!
//! [`PluginHost`] is the entrance: one engine (`engine`), the plugins directory
//! (`registry`, compiled through the on-disk `cache`), and [`PluginHost::bind`],
//! which makes a [`Binding`] of a plugin to one rule's target, proven by one
//! `init` call. A binding runs calls (`binding`) in a sandbox (`sandbox`) and
//! keeps a circuit breaker (`breaker`). Rule loading asks the host whether a
//! `Transform` can run (the `rules::PluginCheck` impl below); the router's
//! transform stage calls bindings on its own threads and routes their outputs.
//! Nothing here knows about targets, queues or dead letters: a failed call is a
//! [`Failure`] whose code the router puts in the dead-letter record.

pub mod binding;
pub mod breaker;
pub mod cache;
pub mod engine;
pub mod registry;
pub mod sandbox;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use binding::{Binding, BindingStatus, BreakerSettings, Failure, Input, SandboxLimits};
pub use registry::{Plugin, PluginStatus, Registry};
pub use sandbox::{Label, LogLimits};

use crate::config::PluginsConfig;
use crate::metrics::PluginMetrics;
use crate::rules::{PluginCheck, Transform, TransformLimits};
use engine::PluginEngine;

/// The plugin host of one process (or one `check`).
pub struct PluginHost {
    engine: Arc<PluginEngine>,
    registry: Registry,
    config: PluginsConfig,
    cache_dir: Option<PathBuf>,
    max_event_bytes: usize,
    metrics: Option<Arc<PluginMetrics>>,
}

impl PluginHost {
    /// Starts the engine and loads the plugins in `dir` (a missing directory
    /// holds none). `max_event_bytes` bounds each output.
    pub fn new(
        dir: &Path,
        config: &PluginsConfig,
        max_event_bytes: usize,
        metrics: Option<Arc<PluginMetrics>>,
    ) -> Result<Arc<PluginHost>, String> {
        let engine = PluginEngine::new(config)?;
        let cache_dir = match &config.cache_dir {
            Some(p) if p.as_os_str().is_empty() => None,
            Some(p) => Some(p.clone()),
            None => cache::default_dir(),
        };
        let registry = Registry::new(engine.clone(), dir.to_path_buf(), cache_dir.clone());
        outside_async(|| registry.refresh());
        Ok(Arc::new(PluginHost {
            engine,
            registry,
            config: config.clone(),
            cache_dir,
            max_event_bytes,
            metrics,
        }))
    }

    pub fn dir(&self) -> &Path {
        self.registry.dir()
    }

    /// Re-reads the plugins directory; returns whether a running plugin changed.
    pub fn refresh(&self) -> bool {
        outside_async(|| self.registry.refresh())
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn status(&self) -> Vec<PluginStatus> {
        self.registry.status()
    }

    /// The limits of a `Transform`: its own `Limits`, else `[plugins]`'s.
    pub fn limits(&self, l: &TransformLimits) -> SandboxLimits {
        let c = &self.config;
        SandboxLimits {
            timeout: Duration::from_millis(l.timeout_ms.unwrap_or(c.timeout_ms)),
            memory_bytes: (l.memory_mib.unwrap_or(c.memory_mib) as usize) << 20,
            max_outputs: l.maximum_outputs.unwrap_or(c.max_outputs),
            max_output_bytes: l.maximum_output_bytes.unwrap_or(c.max_output_bytes),
            max_event_bytes: self.max_event_bytes,
            log: LogLimits {
                per_second: c.logs_per_second,
                max_bytes: c.log_max_bytes,
            },
        }
    }

    /// Binds the running version of `transform.plugin` to a rule's target,
    /// calling `init` once with its `Config`.
    pub fn bind(&self, transform: &Transform, rule: &str, target: &str) -> Result<Binding, String> {
        let plugin = self.registry.get(&transform.plugin)?;
        Binding::new(
            self.engine.clone(),
            plugin,
            Label {
                plugin: transform.plugin.as_str().into(),
                rule: rule.into(),
                target: target.into(),
            },
            &transform.config,
            self.limits(&transform.limits),
            self.breaker(),
            self.metrics.clone(),
        )
    }

    /// Loads one component file outside any directory (`switchyard plugin
    /// check` and `test`).
    pub fn load_file(&self, path: &Path) -> Result<Arc<Plugin>, String> {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin")
            .to_string();
        outside_async(|| registry::load_file(&self.engine, &name, path, self.cache_dir.as_deref()))
            .map(Arc::new)
    }

    /// Binds a plugin loaded with [`PluginHost::load_file`].
    pub fn bind_plugin(
        &self,
        plugin: Arc<Plugin>,
        config: &str,
        limits: SandboxLimits,
    ) -> Result<Binding, String> {
        Binding::new(
            self.engine.clone(),
            plugin.clone(),
            Label {
                plugin: plugin.name.as_str().into(),
                rule: "".into(),
                target: "".into(),
            },
            config,
            limits,
            self.breaker(),
            None,
        )
    }

    fn breaker(&self) -> BreakerSettings {
        let c = &self.config;
        BreakerSettings {
            failures: c.breaker_failures,
            window: Duration::from_millis(c.breaker_window_ms),
            cooldown: Duration::from_millis(c.breaker_cooldown_ms),
        }
    }
}

impl PluginCheck for PluginHost {
    fn check(&self, transform: &Transform, rule: &str, target: &str) -> Result<(), String> {
        self.bind(transform, rule, target).map(drop)
    }
}

/// Runs `f` where WASI's synchronous host calls work: directly on a thread that
/// is not inside an async runtime, otherwise on a scoped thread (they block on
/// a runtime of their own, which Tokio forbids from inside another).
pub fn outside_async<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
