//! Running a plugin natively in unit tests: [`Harness`].
//!
//! ```
//! use switchyard_plugin::testing::Harness;
//! # use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};
//! # struct Passthrough;
//! # impl Plugin for Passthrough {
//! #     fn init(_: Config) -> Result<Self, String> { Ok(Passthrough) }
//! #     fn transform(&mut self, e: Event, _: Delivery) -> Result<Outputs, TransformError> {
//! #         switchyard_plugin::info!("saw {}", e.text().len());
//! #         Ok(Outputs::pass(e))
//! #     }
//! # }
//! let mut h = Harness::<Passthrough>::new("{}");
//! let out = h.transform(r#"{"id": "1"}"#).unwrap();
//! assert_eq!(out, [serde_json::json!({"id": "1"})]);
//! assert_eq!(h.logs()[0].message, "saw 11");
//! ```
//!
//! The harness calls the same `init`/`transform` path as the exported
//! component (config parsing, the rule/target keys, transform-before-init),
//! with the plugin's code compiled for the host. Log messages are kept in the
//! harness instead of going to the host. A panic in the plugin propagates to
//! the test (in a component it would trap).

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::{__private, Delivery, Level, Plugin, TransformError};

/// The rule name the harness adds to the config as `"rule"` (unless given).
pub const RULE: &str = "test-rule";
/// The target Id the harness adds to the config as `"target"` (unless given).
pub const TARGET: &str = "test-target";

/// One log message a plugin sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Its level.
    pub level: Level,
    /// Its context: the module that logged it.
    pub context: String,
    /// The formatted message.
    pub message: String,
}

/// A plugin instance run natively, as the host would run the component.
pub struct Harness<P: Plugin> {
    slot: RefCell<Option<P>>,
    logs: Vec<LogRecord>,
    min_level: Level,
}

impl<P: Plugin> Harness<P> {
    /// Initialises the plugin with `config_json` (plus `"rule"`/`"target"`
    /// keys, as the host adds them); panics with `init`'s error if it fails.
    pub fn new(config_json: &str) -> Harness<P> {
        match Harness::try_new(config_json) {
            Ok(h) => h,
            Err(e) => panic!("init failed: {e}"),
        }
    }

    /// Initialises the plugin with `config_json`; `Err` is `init`'s message.
    pub fn try_new(config_json: &str) -> Result<Harness<P>, String> {
        let mut h = Harness::uninitialised();
        h.init(config_json)?;
        Ok(h)
    }

    /// A harness whose plugin has not been initialised (so `transform` is
    /// fatal until [`Harness::init`] succeeds).
    pub fn uninitialised() -> Harness<P> {
        Harness {
            slot: RefCell::new(None),
            logs: Vec::new(),
            min_level: Level::Trace,
        }
    }

    /// Calls `init` again with a new config, as a reload would.
    pub fn init(&mut self, config_json: &str) -> Result<(), String> {
        let config = with_host_keys(config_json);
        capture(&mut self.logs, self.min_level, || {
            __private::init(&self.slot, &config)
        })
    }

    /// Transforms one event (attempt 1, received now) and parses the outputs.
    /// Panics if an output is not a JSON object: the host would refuse it.
    pub fn transform(&mut self, event_json: &str) -> Result<Vec<Value>, TransformError> {
        self.transform_with(event_json, now())
    }

    /// Like [`Harness::transform`], with the given delivery info.
    pub fn transform_with(
        &mut self,
        event_json: &str,
        info: Delivery,
    ) -> Result<Vec<Value>, TransformError> {
        let outputs = self.transform_raw(event_json, info)?;
        Ok(outputs
            .iter()
            .enumerate()
            .map(|(i, text)| match serde_json::from_str::<Value>(text) {
                Ok(v) if v.is_object() => v,
                Ok(v) => panic!("output {i} is JSON but not an object: {v}"),
                Err(e) => panic!("output {i} is not valid JSON ({e}): {text:?}"),
            })
            .collect())
    }

    /// Transforms one event and returns the outputs' texts unchecked.
    pub fn transform_raw(
        &mut self,
        event_json: &str,
        info: Delivery,
    ) -> Result<Vec<String>, TransformError> {
        let event = event_json.to_owned();
        capture(&mut self.logs, self.min_level, || {
            __private::transform(&self.slot, event, info)
        })
    }

    /// The plugin instance, if initialised.
    pub fn plugin(&self) -> Option<std::cell::Ref<'_, P>> {
        std::cell::Ref::filter_map(self.slot.borrow(), Option::as_ref).ok()
    }

    /// The messages logged so far (by `init` and every `transform`).
    pub fn logs(&self) -> &[LogRecord] {
        &self.logs
    }

    /// The messages logged so far, clearing them.
    pub fn take_logs(&mut self) -> Vec<LogRecord> {
        std::mem::take(&mut self.logs)
    }

    /// The lowest level `enabled` reports as kept (default: trace, all).
    pub fn set_log_level(&mut self, level: Level) {
        self.min_level = level;
    }
}

/// Runs `f` with log messages going to `logs`, even if `f` panics.
fn capture<T>(logs: &mut Vec<LogRecord>, min_level: Level, f: impl FnOnce() -> T) -> T {
    struct End<'a>(&'a mut Vec<LogRecord>);
    impl Drop for End<'_> {
        fn drop(&mut self) {
            self.0.extend(capture::end());
        }
    }
    capture::begin(min_level);
    let _end = End(logs);
    f()
}

fn with_host_keys(config_json: &str) -> String {
    match serde_json::from_str::<Value>(config_json) {
        Ok(Value::Object(mut map)) => {
            map.entry("rule").or_insert_with(|| RULE.into());
            map.entry("target").or_insert_with(|| TARGET.into());
            Value::Object(map).to_string()
        }
        // Not an object: pass it on, so `init` reports it as the host would.
        _ => config_json.to_owned(),
    }
}

fn now() -> Delivery {
    let received_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Delivery {
        attempt: 1,
        received_ms,
    }
}

/// The per-thread log sink the native `log` backend writes to.
pub(crate) mod capture {
    use std::cell::RefCell;

    use super::LogRecord;
    use crate::Level;

    pub(crate) struct Capture {
        pub(crate) min_level: Level,
        pub(crate) records: Vec<LogRecord>,
    }

    thread_local! {
        static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
    }

    pub(crate) fn begin(min_level: Level) {
        CAPTURE.with(|c| {
            *c.borrow_mut() = Some(Capture {
                min_level,
                records: Vec::new(),
            })
        });
    }

    pub(crate) fn end() -> Vec<LogRecord> {
        CAPTURE
            .with(|c| c.borrow_mut().take())
            .map_or_else(Vec::new, |c| c.records)
    }

    pub(crate) fn with<T>(f: impl FnOnce(Option<&mut Capture>) -> T) -> T {
        CAPTURE.with(|c| f(c.borrow_mut().as_mut()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Event, Outputs};
    use serde_json::json;

    /// Records its config, logs at two levels, and can be told to fail.
    struct Probe {
        rule: String,
        target: String,
        calls: u32,
    }

    impl Plugin for Probe {
        fn init(config: Config) -> Result<Self, String> {
            if config.bool_or("refuse", false)? {
                return Err("probe: refused".into());
            }
            crate::debug!("init for {:?}", config.rule());
            Ok(Probe {
                rule: config.rule().unwrap_or_default().into(),
                target: config.target().unwrap_or_default().into(),
                calls: 0,
            })
        }

        fn transform(&mut self, event: Event, info: Delivery) -> Result<Outputs, TransformError> {
            self.calls += 1;
            crate::info!("event {}", event.id()?.unwrap_or("?"));
            crate::trace!("attempt {}", info.attempt);
            match event.json()?.get("out") {
                Some(Value::String(raw)) => Ok(Outputs::raw(raw.clone())),
                Some(Value::Bool(false)) => Err(TransformError::reject("out is false")),
                _ => Ok(Outputs::pass(event)),
            }
        }
    }

    #[test]
    fn adds_rule_and_target_unless_given() {
        let h = Harness::<Probe>::new("{}");
        let p = h.plugin().unwrap();
        assert_eq!((p.rule.as_str(), p.target.as_str()), (RULE, TARGET));
        drop(p);
        let h = Harness::<Probe>::new(r#"{"rule": "r", "target": "t"}"#);
        assert_eq!(h.plugin().unwrap().rule, "r");
    }

    #[test]
    fn init_errors() {
        assert_eq!(
            Harness::<Probe>::try_new(r#"{"refuse": true}"#).err(),
            Some("probe: refused".to_owned())
        );
        let err = Harness::<Probe>::try_new("[]").err().unwrap();
        assert!(err.contains("must be a JSON object"), "{err}");
    }

    #[test]
    #[should_panic(expected = "init failed: probe: refused")]
    fn new_panics_on_init_error() {
        Harness::<Probe>::new(r#"{"refuse": true}"#);
    }

    #[test]
    fn transform_before_init_is_fatal() {
        let mut h = Harness::<Probe>::uninitialised();
        let err = h.transform("{}").unwrap_err();
        assert!(err.is_fatal());
        assert_eq!(err.message(), __private::NOT_INITIALISED);
        h.init("{}").unwrap();
        assert!(h.transform("{}").is_ok());
    }

    #[test]
    fn transforms_and_collects_logs() {
        let mut h = Harness::<Probe>::new("{}");
        let out = h
            .transform_with(
                r#"{"id": "e1"}"#,
                Delivery {
                    attempt: 3,
                    received_ms: 5,
                },
            )
            .unwrap();
        assert_eq!(out, [json!({"id": "e1"})]);
        assert_eq!(h.plugin().unwrap().calls, 1);
        let logs = h.take_logs();
        let messages: Vec<_> = logs.iter().map(|r| (r.level, r.message.as_str())).collect();
        assert_eq!(
            messages,
            [
                (Level::Debug, "init for Some(\"test-rule\")"),
                (Level::Info, "event e1"),
                (Level::Trace, "attempt 3")
            ]
        );
        assert!(
            logs[1].context.ends_with("testing::tests"),
            "{}",
            logs[1].context
        );
        assert!(h.logs().is_empty());
    }

    #[test]
    fn log_level_filters_before_formatting() {
        let mut h = Harness::<Probe>::new("{}");
        h.take_logs();
        h.set_log_level(Level::Info);
        h.transform(r#"{"id": "e2"}"#).unwrap();
        assert_eq!(h.logs().len(), 1);
        assert_eq!(h.logs()[0].message, "event e2");
    }

    #[test]
    fn rejects_and_raw_outputs() {
        let mut h = Harness::<Probe>::new("{}");
        assert_eq!(
            h.transform(r#"{"out": false}"#),
            Err(TransformError::reject("out is false"))
        );
        let raw = h
            .transform_raw(r#"{"out": "not json"}"#, Delivery::default())
            .unwrap();
        assert_eq!(raw, ["not json"]);
        let bad = h.transform("not json either").unwrap_err();
        assert!(bad.is_reject());
    }

    #[test]
    #[should_panic(expected = "output 0 is JSON but not an object")]
    fn transform_panics_on_non_object_output() {
        let mut h = Harness::<Probe>::new("{}");
        let _ = h.transform(r#"{"out": "[1,2,3]"}"#);
    }
}
