//! Hostile test plugin `init-fails`: `init` always returns
//! `Err("init-fails: refused the config on purpose")`, so the host must
//! reject the rule at load. `transform` (never reached through the host)
//! passes events through.
//!
//! Config: any (refused).

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// The init error.
pub const MESSAGE: &str = "init-fails: refused the config on purpose";

/// Never constructed through `init`.
pub struct InitFails;

impl Plugin for InitFails {
    fn init(_config: Config) -> Result<Self, String> {
        Err(MESSAGE.to_owned())
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        Ok(Outputs::pass(event))
    }
}

switchyard_plugin::export_plugin!(InitFails);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn init_fails_and_transform_stays_fatal() {
        assert_eq!(
            Harness::<InitFails>::try_new("{}").err().as_deref(),
            Some(MESSAGE)
        );
        let mut h = Harness::<InitFails>::uninitialised();
        assert!(h.init(r#"{"anything": 1}"#).is_err());
        assert!(h.transform("{}").unwrap_err().is_fatal());
    }
}
