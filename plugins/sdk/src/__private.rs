//! What [`export_plugin!`](crate::export_plugin) and the test harness share:
//! the instance slot's `init` and `transform`. Not a public API.

use std::cell::RefCell;

use crate::{Config, Delivery, Event, Plugin, TransformError};

/// What `transform` returns before a successful `init`.
pub const NOT_INITIALISED: &str = "transform called before a successful init";

/// Parses the config and stores a new instance in `slot` (replacing any).
pub fn init<P: Plugin>(slot: &RefCell<Option<P>>, config: &str) -> Result<(), String> {
    let config = Config::parse(config)?;
    // Drop an old instance before building the new one, so at most one lives.
    slot.borrow_mut().take();
    let plugin = P::init(config)?;
    *slot.borrow_mut() = Some(plugin);
    Ok(())
}

/// Runs the instance in `slot` on one event.
pub fn transform<P: Plugin>(
    slot: &RefCell<Option<P>>,
    event: String,
    info: Delivery,
) -> Result<Vec<String>, TransformError> {
    let mut slot = slot.borrow_mut();
    let plugin = slot
        .as_mut()
        .ok_or_else(|| TransformError::fatal(NOT_INITIALISED))?;
    plugin
        .transform(Event::new(event), info)
        .map(crate::Outputs::into_vec)
}

#[cfg(target_arch = "wasm32")]
pub fn to_wit_error(e: TransformError) -> crate::bindings::TransformError {
    match e {
        TransformError::Reject(m) => crate::bindings::TransformError::Reject(m),
        TransformError::Fatal(m) => crate::bindings::TransformError::Fatal(m),
    }
}
