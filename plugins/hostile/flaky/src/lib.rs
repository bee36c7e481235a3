//! Hostile test plugin `flaky`: panics (a trap in a component) when the
//! event's `detail.fail` is `true`, and passes every other event through
//! unchanged; for testing the host's circuit breaker. The panic message is
//! `flaky: detail.fail is true`.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError, Value};

/// The panic message.
pub const MESSAGE: &str = "flaky: detail.fail is true";

/// Holds nothing.
pub struct Flaky;

impl Plugin for Flaky {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Flaky)
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let fail = event.detail()?.and_then(|d| d.get("fail"));
        if fail == Some(&Value::Bool(true)) {
            panic!("{MESSAGE}");
        }
        Ok(Outputs::pass(event))
    }
}

switchyard_plugin::export_plugin!(Flaky);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn passes_when_not_failing() {
        let mut h = Harness::<Flaky>::new("{}");
        let text = r#"{"detail": {"fail": false}}"#;
        assert_eq!(h.transform_raw(text, Delivery::default()).unwrap(), [text]);
        assert_eq!(h.transform(r#"{"id": "x"}"#).unwrap().len(), 1);
    }

    #[test]
    #[should_panic(expected = "flaky: detail.fail is true")]
    fn panics_when_told_to() {
        let mut h = Harness::<Flaky>::new("{}");
        let _ = h.transform(r#"{"detail": {"fail": true}}"#);
    }
}
