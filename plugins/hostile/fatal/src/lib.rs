//! Hostile test plugin `fatal`: `transform` always returns
//! `TransformError::fatal("fatal: the plugin cannot work")`, so the host
//! disables the binding. `init` succeeds.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// The fatal error's message.
pub const MESSAGE: &str = "fatal: the plugin cannot work";

/// Holds nothing.
pub struct Fatal;

impl Plugin for Fatal {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Fatal)
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        Err(TransformError::fatal(MESSAGE))
    }
}

switchyard_plugin::export_plugin!(Fatal);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn always_fatal() {
        let mut h = Harness::<Fatal>::new("{}");
        assert_eq!(
            h.transform("{}"),
            Err(TransformError::Fatal(MESSAGE.into()))
        );
    }
}
