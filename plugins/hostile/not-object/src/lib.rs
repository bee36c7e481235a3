//! Hostile test plugin `not-object`: `transform` returns one output that is
//! valid JSON but not an object (`["[1,2,3]"]`), which the host must refuse.
//! `init` succeeds.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// The output.
pub const OUTPUT: &str = "[1,2,3]";

/// Holds nothing.
pub struct NotObject;

impl Plugin for NotObject {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(NotObject)
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        Ok(Outputs::raw(OUTPUT))
    }
}

switchyard_plugin::export_plugin!(NotObject);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn returns_a_json_list() {
        let mut h = Harness::<NotObject>::new("{}");
        assert_eq!(
            h.transform_raw("{}", Delivery::default()).unwrap(),
            [OUTPUT]
        );
    }

    #[test]
    #[should_panic(expected = "not an object")]
    fn the_harness_refuses_it_like_the_host() {
        let mut h = Harness::<NotObject>::new("{}");
        let _ = h.transform("{}");
    }
}
