//! `passthrough`: returns each event's JSON text unchanged, without parsing it.
//! The baseline for the host's per-event plugin overhead benchmark.
//!
//! Config: none (`{}`; any keys are ignored).

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// Holds nothing.
pub struct Passthrough;

impl Plugin for Passthrough {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Passthrough)
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        Ok(Outputs::pass(event))
    }
}

switchyard_plugin::export_plugin!(Passthrough);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn returns_the_text_byte_for_byte() {
        let mut h = Harness::<Passthrough>::new("{}");
        let text = "{ \"id\" : \"1\",\n \"detail\": {\"z\": 1, \"a\": 2} }";
        let out = h
            .transform_raw(text, Delivery::default())
            .expect("passthrough never fails");
        assert_eq!(out, [text]);
    }

    #[test]
    fn does_not_parse() {
        // Not JSON at all: a parsing plugin would reject it.
        let mut h = Harness::<Passthrough>::new("{}");
        let out = h.transform_raw("not json", Delivery::default()).unwrap();
        assert_eq!(out, ["not json"]);
    }
}
