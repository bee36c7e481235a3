//! Hostile test plugin `reject`: rejects events whose `detail.ok` is `false`
//! (reason `reject: detail.ok is false`) and passes all others through
//! unchanged, to test dead-lettering of rejected events.
//!
//! Config: none.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError, Value};

/// The reject reason.
pub const REASON: &str = "reject: detail.ok is false";

/// Holds nothing.
pub struct Reject;

impl Plugin for Reject {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Reject)
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let ok = event.detail()?.and_then(|d| d.get("ok"));
        if ok == Some(&Value::Bool(false)) {
            return Err(TransformError::reject(REASON));
        }
        Ok(Outputs::pass(event))
    }
}

switchyard_plugin::export_plugin!(Reject);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn rejects_only_ok_false() {
        let mut h = Harness::<Reject>::new("{}");
        assert_eq!(
            h.transform(r#"{"detail": {"ok": false}}"#),
            Err(TransformError::Reject(REASON.into()))
        );
        let pass = r#"{"detail": {"ok": true}}"#;
        assert_eq!(h.transform_raw(pass, Delivery::default()).unwrap(), [pass]);
        assert_eq!(h.transform(r#"{"detail": {}}"#).unwrap().len(), 1);
        assert_eq!(
            h.transform(r#"{"detail": {"ok": "false"}}"#).unwrap().len(),
            1
        );
    }
}
