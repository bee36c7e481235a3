//! Hostile test plugin `panic`: `transform` panics with the message
//! `boom: the plugin panicked on purpose`. In a component the panic aborts
//! (a trap) after Rust's panic hook writes
//! `thread '<unnamed>' panicked at …/src/lib.rs:LINE:COL:\nboom: the plugin panicked on purpose`
//! to stderr, which the host reports. `init` succeeds.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// The panic message.
pub const MESSAGE: &str = "boom: the plugin panicked on purpose";

/// Holds nothing.
pub struct Panic;

impl Plugin for Panic {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Panic)
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        panic!("{MESSAGE}")
    }
}

switchyard_plugin::export_plugin!(Panic);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    #[should_panic(expected = "boom: the plugin panicked on purpose")]
    fn transform_panics() {
        let mut h = Harness::<Panic>::new("{}");
        let _ = h.transform("{}");
    }
}
