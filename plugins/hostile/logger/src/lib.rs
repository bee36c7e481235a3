//! Hostile test plugin `logger`: on each event logs at info
//! `logger: saw event <id>` (through the host's `log` import), prints
//! `logger stdout: <id>` to stdout and `logger stderr: <id>` to stderr, then
//! passes the event through unchanged. For testing log forwarding, its rate
//! limit, and what the host does with plugin stdout/stderr. `<id>` is the
//! event's `id`, or `-` without one. `init` logs `logger: init` at debug.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// Holds nothing.
pub struct Logger;

impl Plugin for Logger {
    fn init(config: Config) -> Result<Self, String> {
        switchyard_plugin::debug!(
            "logger: init for rule {} target {}",
            config.rule().unwrap_or("-"),
            config.target().unwrap_or("-")
        );
        Ok(Logger)
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let id = event.id()?.unwrap_or("-");
        switchyard_plugin::info!("logger: saw event {id}");
        println!("logger stdout: {id}");
        eprintln!("logger stderr: {id}");
        Ok(Outputs::pass(event))
    }
}

switchyard_plugin::export_plugin!(Logger);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::Level;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn logs_the_event_id_and_passes_through() {
        let mut h = Harness::<Logger>::new("{}");
        let init = h.take_logs();
        assert_eq!(init.len(), 1);
        assert_eq!(
            init[0].message,
            "logger: init for rule test-rule target test-target"
        );
        let text = r#"{"id": "ev-42"}"#;
        assert_eq!(h.transform_raw(text, Delivery::default()).unwrap(), [text]);
        let logs = h.take_logs();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].level, Level::Info);
        assert_eq!(logs[0].message, "logger: saw event ev-42");
    }

    #[test]
    fn respects_the_level() {
        let mut h = Harness::<Logger>::new("{}");
        h.set_log_level(Level::Warn);
        h.take_logs();
        h.transform(r#"{"id": "x"}"#).unwrap();
        assert!(h.logs().is_empty());
    }
}
