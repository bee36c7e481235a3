//! Hostile test plugin `not-json`: `transform` returns one output that is not
//! JSON (`["this is not json"]`), which the host must refuse. `init` succeeds.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// The output.
pub const OUTPUT: &str = "this is not json";

/// Holds nothing.
pub struct NotJson;

impl Plugin for NotJson {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(NotJson)
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        Ok(Outputs::raw(OUTPUT))
    }
}

switchyard_plugin::export_plugin!(NotJson);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn returns_text_that_is_not_json() {
        let mut h = Harness::<NotJson>::new("{}");
        let out = h.transform_raw("{}", Delivery::default()).unwrap();
        assert_eq!(out, [OUTPUT]);
        assert!(
            switchyard_plugin::serde_json::from_str::<switchyard_plugin::Value>(&out[0]).is_err()
        );
    }
}
