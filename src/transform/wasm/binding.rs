//! A plugin bound to one rule's target: its configuration, its limits, its
//! instances (one per thread that calls it, kept across events) and its health
//! (circuit breaker, fatal disable).
//!
//! It owns one call: take this thread's instance (instantiating from the
//! pre-instantiated component only when there is none: first use, or after a
//! trap, since wasmtime cannot re-enter a Store that trapped), set the CPU
//! deadline, call `transform`, drain stdout and stderr to the log, validate the
//! outputs, and classify any failure with the `ERROR_CODE` its dead-letter record
//! carries. It does not choose where outputs go (the router's transform stage).

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use serde::Serialize;
use thread_local::ThreadLocal;
use wasmtime::{Store, Trap};

use super::breaker::{Breaker, BreakerState};
use super::engine::{EPOCH_TICK, PluginEngine};
use super::registry::Plugin;
use super::sandbox::{Delivery, Label, LogLimits, Sandbox, TransformError, Transformer, truncate};
use crate::metrics::PluginMetrics;

/// The limits one binding runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    pub timeout: Duration,
    pub memory_bytes: usize,
    pub max_outputs: usize,
    pub max_output_bytes: usize,
    /// Largest single output: the event size limit.
    pub max_event_bytes: usize,
    pub log: LogLimits,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    pub failures: u32,
    pub window: Duration,
    pub cooldown: Duration,
}

/// What a plugin is given: the bytes the target would otherwise receive.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub bytes: &'a Bytes,
    /// The bytes are known to be one JSON object (the event as validated at
    /// ingest, not reshaped): an output equal to them needs no validation and
    /// is delivered as these very bytes.
    pub known_object: bool,
}

/// Why a call produced no outputs; `code` is the dead-letter `ERROR_CODE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

struct Live {
    store: Store<Sandbox>,
    api: Transformer,
}

struct Counters {
    labels: Vec<(String, String)>,
    metrics: Option<Arc<PluginMetrics>>,
    invocations: Counter,
    outputs: Counter,
    dropped: Counter,
    instantiations: Counter,
    state: Gauge,
    duration: Histogram,
}

impl Counters {
    fn new(label: &Label, metrics: Option<Arc<PluginMetrics>>) -> Counters {
        let labels = vec![
            ("plugin".to_string(), label.plugin.to_string()),
            ("rule".to_string(), label.rule.to_string()),
            ("target".to_string(), label.target.to_string()),
        ];
        let m = metrics.as_deref();
        Counters {
            invocations: m.map_or_else(Counter::default, |m| {
                m.invocations.get_or_create(&labels).clone()
            }),
            outputs: m.map_or_else(Counter::default, |m| {
                m.outputs.get_or_create(&labels).clone()
            }),
            dropped: m.map_or_else(Counter::default, |m| {
                m.dropped.get_or_create(&labels).clone()
            }),
            instantiations: m.map_or_else(Counter::default, |m| {
                m.instantiations.get_or_create(&labels).clone()
            }),
            state: m.map_or_else(Gauge::default, |m| m.state.get_or_create(&labels).clone()),
            duration: m.map_or_else(
                || Histogram::new([1e-6]),
                |m| m.duration.get_or_create(&labels).clone(),
            ),
            labels,
            metrics,
        }
    }

    fn failed(&self, code: &str) {
        if let Some(m) = &self.metrics {
            let mut labels = self.labels.clone();
            labels.push(("code".to_string(), code.to_string()));
            m.failures.get_or_create(&labels).inc();
        }
    }
}

/// What `/status` shows of one binding.
#[derive(Debug, Clone, Serialize)]
pub struct BindingStatus {
    pub plugin: String,
    pub plugin_hash: String,
    pub rule: String,
    pub target: String,
    /// `closed` (healthy), `open`, `half-open`, or `disabled` after a fatal error.
    pub state: &'static str,
    pub disabled_reason: Option<String>,
    /// The limits it runs under (its `Transform.Limits`, else `[plugins]`).
    pub timeout_ms: u64,
    pub memory_mib: usize,
    pub max_outputs: usize,
    pub max_output_bytes: usize,
}

/// A plugin bound to a target.
pub struct Binding {
    pub plugin: Arc<Plugin>,
    engine: Arc<PluginEngine>,
    label: Label,
    /// The target's `Config` with `rule` and `target` added, as JSON text.
    config: String,
    pub limits: SandboxLimits,
    instances: ThreadLocal<RefCell<Option<Live>>>,
    breaker: Breaker,
    breaker_settings: BreakerSettings,
    disabled: OnceLock<String>,
    counters: Counters,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("plugin", &self.plugin.name)
            .field("rule", &self.label.rule)
            .field("target", &self.label.target)
            .finish()
    }
}

impl Binding {
    /// Binds `plugin` and proves it: one instance is created and `init`ed with
    /// the configuration, so a refused config rejects the rule at load.
    pub fn new(
        engine: Arc<PluginEngine>,
        plugin: Arc<Plugin>,
        label: Label,
        config: &str,
        limits: SandboxLimits,
        breaker: BreakerSettings,
        metrics: Option<Arc<PluginMetrics>>,
    ) -> Result<Binding, String> {
        let config = with_identity(config, &label)?;
        let binding = Binding {
            counters: Counters::new(&label, metrics),
            plugin,
            engine,
            label,
            config,
            limits,
            instances: ThreadLocal::new(),
            breaker: Breaker::new(breaker.failures, breaker.window, breaker.cooldown),
            breaker_settings: breaker,
            disabled: OnceLock::new(),
        };
        binding
            .instantiate_once()
            .map_err(|f| format!("plugin \"{}\": {}", binding.plugin.name, f.message))?;
        Ok(binding)
    }

    /// Creates, `init`s and drops one instance (the load-time proof, and what
    /// `bench plugins` times as the instantiation cost).
    pub fn instantiate_once(&self) -> Result<(), Failure> {
        super::outside_async(|| self.instantiate().map(drop))
    }

    pub fn status(&self) -> BindingStatus {
        BindingStatus {
            plugin: self.plugin.name.clone(),
            plugin_hash: self.plugin.hash.clone(),
            rule: self.label.rule.to_string(),
            target: self.label.target.to_string(),
            state: if self.disabled.get().is_some() {
                "disabled"
            } else {
                match self.breaker.state() {
                    BreakerState::Closed => "closed",
                    BreakerState::Open => "open",
                    BreakerState::HalfOpen => "half-open",
                }
            },
            disabled_reason: self.disabled.get().cloned(),
            timeout_ms: self.limits.timeout.as_millis() as u64,
            memory_mib: self.limits.memory_bytes >> 20,
            max_outputs: self.limits.max_outputs,
            max_output_bytes: self.limits.max_output_bytes,
        }
    }

    /// Runs the plugin on one event (JSON text). `received` is when switchyard
    /// received the event. Safe to call from any thread; within an async
    /// runtime it runs on a scoped thread (WASI's synchronous host calls block
    /// on a runtime of their own), so hot paths call it from the router's
    /// transform threads, which are outside the runtime.
    pub fn transform(&self, input: Input<'_>, received: SystemTime) -> Result<Vec<Bytes>, Failure> {
        if let Some(why) = self.disabled.get() {
            return Err(self.fail(Failure::new(
                "PluginDisabled",
                format!("the plugin is disabled until it or its rule is reloaded: it reported a fatal error: {why}"),
            )));
        }
        if let Err(wait) = self.breaker.admit(Instant::now()) {
            return Err(self.fail(Failure::new(
                "PluginCircuitOpen",
                format!(
                    "the plugin failed {} times within {} s; its circuit breaker is open and lets a call through again in {} ms",
                    self.breaker_settings.failures,
                    self.breaker_settings.window.as_secs(),
                    wait.as_millis()
                ),
            )));
        }
        let event = std::str::from_utf8(input.bytes).map_err(|e| {
            self.fail(Failure::new(
                "PluginInputInvalid",
                format!("the event is not UTF-8 text: {e}"),
            ))
        })?;
        let info = Delivery {
            attempt: 1,
            received_ms: received
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        };
        super::outside_async(|| self.call(event, input, info))
    }

    fn call(&self, event: &str, input: Input<'_>, info: Delivery) -> Result<Vec<Bytes>, Failure> {
        let cell = self.instances.get_or(|| RefCell::new(None));
        let Ok(mut slot) = cell.try_borrow_mut() else {
            // Re-entered on this thread (a plugin's output routed back to it
            // synchronously): use a fresh instance rather than the busy one.
            let mut live = self.instantiate().map_err(|f| self.fail(f))?;
            return self.call_on(&mut live, event, input, info).0;
        };
        if slot.is_none() {
            *slot = Some(self.instantiate().map_err(|f| self.fail(f))?);
        }
        let live = slot.as_mut().expect("just filled");
        let (result, poisoned) = self.call_on(live, event, input, info);
        if poisoned {
            // A Store that trapped cannot be entered again; the next call
            // instantiates afresh from the pre-instantiated component.
            *slot = None;
        }
        result
    }

    /// One call; also returns whether the instance must be dropped.
    fn call_on(
        &self,
        live: &mut Live,
        event: &str,
        input: Input<'_>,
        info: Delivery,
    ) -> (Result<Vec<Bytes>, Failure>, bool) {
        self.counters.invocations.inc();
        live.store.set_epoch_deadline(self.deadline_ticks());
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            live.api.call_transform(&mut live.store, event, info)
        }));
        self.counters
            .duration
            .observe(started.elapsed().as_secs_f64());
        let (result, poisoned) = match result {
            Ok(Ok(Ok(outputs))) => {
                live.store.data_mut().drain_output();
                (self.validate(outputs, input), false)
            }
            Ok(Ok(Err(TransformError::Reject(why)))) => {
                live.store.data_mut().drain_output();
                self.counters.failed("PluginRejected");
                // The plugin worked: a rejection is about the event, so it
                // neither counts against the breaker nor closes it.
                return (
                    Err(Failure::new(
                        "PluginRejected",
                        format!("the plugin rejected the event: {}", truncate(&why, 2048)),
                    )),
                    false,
                );
            }
            Ok(Ok(Err(TransformError::Fatal(why)))) => {
                live.store.data_mut().drain_output();
                let why = truncate(&why, 2048).into_owned();
                tracing::error!(plugin = %self.label.plugin, rule = %self.label.rule,
                    target_id = %self.label.target,
                    "the plugin reported a fatal error and is disabled until it or its rule is reloaded: {why}");
                let _ = self.disabled.set(why.clone());
                self.counters.state.set(3);
                self.counters.failed("PluginFatal");
                return (
                    Err(Failure::new(
                        "PluginFatal",
                        format!("the plugin reported a fatal error: {why}"),
                    )),
                    false,
                );
            }
            Ok(Err(trap)) => (Err(self.classify(&mut live.store, trap, "transform")), true),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                (
                    Err(Failure::new(
                        "PluginTrap",
                        format!("the host failed while running the plugin: {what}"),
                    )),
                    true,
                )
            }
        };
        match &result {
            Ok(outputs) => {
                self.breaker.success();
                self.counters.state.set(self.breaker.state() as i64);
                if outputs.is_empty() {
                    self.counters.dropped.inc();
                }
                self.counters.outputs.inc_by(outputs.len() as u64);
            }
            Err(f) => {
                if self.breaker.failure(Instant::now()) {
                    tracing::warn!(plugin = %self.label.plugin, rule = %self.label.rule,
                        target_id = %self.label.target,
                        "plugin circuit breaker opened after repeated failures (last: {}: {})",
                        f.code, f.message);
                }
                self.counters.state.set(self.breaker.state() as i64);
                self.counters.failed(f.code);
            }
        }
        (result, poisoned)
    }

    fn deadline_ticks(&self) -> u64 {
        // One extra tick: the ticker may advance right after the deadline is set.
        (self.limits.timeout.as_nanos() / EPOCH_TICK.as_nanos()).max(1) as u64 + 1
    }

    fn instantiate(&self) -> Result<Live, Failure> {
        let sandbox = Sandbox::new(
            self.label.clone(),
            self.limits.memory_bytes,
            self.limits.log,
        );
        let mut store = Store::new(&self.engine.engine, sandbox);
        store.limiter(|s| &mut s.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(self.deadline_ticks());
        self.counters.instantiations.inc();
        let api = match self.plugin.pre.instantiate(&mut store) {
            Ok(api) => api,
            Err(e) => return Err(self.classify(&mut store, e, "instantiation")),
        };
        match catch_unwind(AssertUnwindSafe(|| api.call_init(&mut store, &self.config))) {
            Ok(Ok(Ok(()))) => {
                store.data_mut().drain_output();
                Ok(Live { store, api })
            }
            Ok(Ok(Err(why))) => {
                store.data_mut().drain_output();
                Err(Failure::new(
                    "PluginInitFailed",
                    format!("init refused its Config: {}", truncate(&why, 2048)),
                ))
            }
            Ok(Err(trap)) => Err(self.classify(&mut store, trap, "init")),
            Err(_) => Err(Failure::new(
                "PluginTrap",
                "the host failed while running init",
            )),
        }
    }

    /// Names the cause of a trap or host error.
    fn classify(
        &self,
        store: &mut Store<Sandbox>,
        error: wasmtime::Error,
        during: &str,
    ) -> Failure {
        let stderr = store.data_mut().drain_output();
        if store.data().limiter.hit {
            return Failure::new(
                "PluginMemoryLimit",
                format!(
                    "the plugin exceeded its memory limit of {} MiB during {during}",
                    self.limits.memory_bytes >> 20
                ),
            );
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Failure::new(
                "PluginTimeout",
                format!(
                    "the plugin ran past its CPU time limit of {} ms during {during} and was stopped",
                    self.limits.timeout.as_millis()
                ),
            ),
            Some(Trap::StackOverflow) => Failure::new(
                "PluginStackOverflow",
                format!("the plugin overflowed its Wasm stack during {during} (plugins.stack_kib)"),
            ),
            _ => {
                if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    return Failure::new(
                        "PluginTrap",
                        format!("the plugin called exit({}) during {during}", exit.0),
                    );
                }
                // The root cause is the trap itself ("wasm trap: ..."); the
                // outer layers are a backtrace, which belongs in logs.
                let cause = error
                    .chain()
                    .last()
                    .map_or_else(|| error.to_string(), |c| c.to_string());
                let mut message = format!("the plugin trapped during {during}: {cause}");
                let panic = panic_message(&stderr);
                if !panic.is_empty() {
                    message.push_str(": ");
                    message.push_str(&truncate(&panic, 2048));
                }
                Failure::new("PluginTrap", message)
            }
        }
    }

    fn validate(&self, outputs: Vec<String>, input: Input<'_>) -> Result<Vec<Bytes>, Failure> {
        let invalid = |message: String| Failure::new("PluginOutputInvalid", message);
        let l = &self.limits;
        if outputs.len() > l.max_outputs {
            return Err(invalid(format!(
                "the plugin returned {} outputs; at most {} are allowed (MaximumOutputs)",
                outputs.len(),
                l.max_outputs
            )));
        }
        let total: usize = outputs.iter().map(String::len).sum();
        if total > l.max_output_bytes {
            return Err(invalid(format!(
                "the plugin returned {total} bytes of output; at most {} are allowed (MaximumOutputBytes)",
                l.max_output_bytes
            )));
        }
        let unchanged = |o: &String| input.known_object && o.as_bytes() == &input.bytes[..];
        for (i, output) in outputs.iter().enumerate() {
            if unchanged(output) {
                continue;
            }
            if output.len() > l.max_event_bytes {
                return Err(invalid(format!(
                    "output {i} is {} bytes, larger than the event size limit of {} bytes",
                    output.len(),
                    l.max_event_bytes
                )));
            }
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(output) {
                return Err(invalid(format!(
                    "output {i} is not JSON: {e}; it starts: {}",
                    truncate(output, 80)
                )));
            }
            if !output.trim_start().starts_with('{') {
                return Err(invalid(format!(
                    "output {i} is JSON but not an object; it starts: {}",
                    truncate(output, 80)
                )));
            }
        }
        Ok(outputs
            .into_iter()
            .map(|o| {
                if unchanged(&o) {
                    input.bytes.clone()
                } else {
                    Bytes::from(o)
                }
            })
            .collect())
    }

    fn fail(&self, failure: Failure) -> Failure {
        self.counters.failed(failure.code);
        failure
    }
}

/// The lines of a guest's stderr from its panic message on (Rust's default hook
/// writes `thread '<unnamed>' panicked at src/lib.rs:3:5:` then the message).
fn panic_message(stderr: &str) -> String {
    let from = stderr.find("panicked at").unwrap_or(0);
    let lines: Vec<&str> = stderr[from..]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    lines.join(" ")
}

/// The configuration object with `rule` and `target` added.
fn with_identity(config: &str, label: &Label) -> Result<String, String> {
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(config).map_err(|e| format!("Config is not a JSON object: {e}"))?;
    object.insert("rule".into(), label.rule.to_string().into());
    object.insert("target".into(), label.target.to_string().into());
    Ok(serde_json::Value::Object(object).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_panic_message_is_taken_from_stderr() {
        let stderr = "noise\nthread '<unnamed>' (1) panicked at src/lib.rs:9:5:\nboom: on purpose\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            panic_message(stderr),
            "panicked at src/lib.rs:9:5: boom: on purpose"
        );
    }

    #[test]
    fn the_config_gains_rule_and_target() {
        let label = Label {
            plugin: "p".into(),
            rule: "r".into(),
            target: "t".into(),
        };
        assert_eq!(
            with_identity(r#"{"fields":["a"]}"#, &label).unwrap(),
            r#"{"fields":["a"],"rule":"r","target":"t"}"#
        );
    }
}
