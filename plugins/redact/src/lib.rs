//! `redact`: replaces the value at each configured dot path with a mask.
//!
//! Config:
//!
//! ```json
//! {"fields": ["detail.customer.email", "$.detail.card"], "mask": "***"}
//! ```
//!
//! - `fields` (required): list of dot paths into the event (the `$.` prefix
//!   is optional; a numeric segment indexes a list, e.g. `detail.cards.0`).
//!   Paths the event does not have are ignored.
//! - `mask` (optional, default `"REDACTED"`): the string put in their place.
//!
//! An event with none of the paths is passed through untouched.

use switchyard_plugin::path::Path;
use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError, Value};

/// The parsed config.
pub struct Redact {
    fields: Vec<Path>,
    mask: Value,
}

const FIELDS_HELP: &str =
    r#"redact: "fields" must be a list of dot paths such as "detail.customer.email""#;

impl Plugin for Redact {
    fn init(config: Config) -> Result<Self, String> {
        let fields = match config.str_list("fields") {
            Ok(Some(fields)) if !fields.is_empty() => fields,
            _ => return Err(FIELDS_HELP.to_owned()),
        };
        let fields = fields
            .into_iter()
            .map(|f| Path::parse(f).map_err(|e| format!("redact: \"fields\": {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(root) = fields.iter().find(|p| p.segments().is_empty()) {
            return Err(format!(
                "redact: \"fields\": {root:?} is the whole event: name fields inside it"
            ));
        }
        let mask = config
            .str_or("mask", "REDACTED")
            .map_err(|e| format!("redact: {e}"))?;
        Ok(Redact {
            fields,
            mask: Value::String(mask.to_owned()),
        })
    }

    fn transform(&mut self, mut event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let json = event.json_mut()?;
        let mut changed = false;
        for path in &self.fields {
            if let Some(value) = path.get_mut(json) {
                *value = self.mask.clone();
                changed = true;
            }
        }
        if changed {
            Ok(Outputs::one(event.into_json()?))
        } else {
            Ok(Outputs::pass(event))
        }
    }
}

switchyard_plugin::export_plugin!(Redact);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::json;
    use switchyard_plugin::testing::Harness;

    const ORDER: &str = r#"{"version":"0","id":"e-1","detail-type":"Order Placed","source":"shop",
        "detail":{"customer":{"name":"Ada","email":"ada@example.com"},"card":{"number":"4111"},"total":12}}"#;

    #[test]
    fn masks_existing_paths_and_ignores_missing_ones() {
        let mut h = Harness::<Redact>::new(
            r#"{"fields": ["detail.customer.email", "$.detail.card", "detail.nope.x"], "mask": "***"}"#,
        );
        let out = h.transform(ORDER).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0]["detail"]["customer"],
            json!({"name": "Ada", "email": "***"})
        );
        assert_eq!(out[0]["detail"]["card"], json!("***"));
        assert_eq!(out[0]["detail"]["total"], json!(12));
        assert_eq!(out[0]["id"], json!("e-1"));
        assert!(out[0]["detail"].get("nope").is_none());
    }

    #[test]
    fn default_mask() {
        let mut h = Harness::<Redact>::new(r#"{"fields": ["detail.customer.email"]}"#);
        let out = h.transform(ORDER).unwrap();
        assert_eq!(out[0]["detail"]["customer"]["email"], json!("REDACTED"));
    }

    #[test]
    fn list_elements_by_index() {
        let mut h = Harness::<Redact>::new(r#"{"fields": ["detail.cards.1"]}"#);
        let out = h
            .transform(r#"{"detail": {"cards": ["a", "b", "c"]}}"#)
            .unwrap();
        assert_eq!(out[0]["detail"]["cards"], json!(["a", "REDACTED", "c"]));
    }

    #[test]
    fn untouched_event_passes_through_as_is() {
        let mut h = Harness::<Redact>::new(r#"{"fields": ["detail.secret"]}"#);
        let text = r#"{ "detail" : { "public" : 1 } }"#;
        let out = h.transform_raw(text, Delivery::default()).unwrap();
        assert_eq!(out, [text]);
    }

    #[test]
    fn rejects_bad_config_clearly() {
        for config in [
            "{}",
            r#"{"fields": "detail.card"}"#,
            r#"{"fields": [1, 2]}"#,
            r#"{"fields": []}"#,
        ] {
            let err = Harness::<Redact>::try_new(config).err();
            assert_eq!(err.as_deref(), Some(FIELDS_HELP), "config {config}");
        }
        let err = Harness::<Redact>::try_new(r#"{"fields": ["a..b"]}"#)
            .err()
            .unwrap();
        assert!(
            err.starts_with("redact: \"fields\": path \"a..b\""),
            "{err}"
        );
        let err = Harness::<Redact>::try_new(r#"{"fields": ["a"], "mask": 0}"#)
            .err()
            .unwrap();
        assert_eq!(err, r#"redact: "mask" must be a string, not a number"#);
        assert!(Harness::<Redact>::try_new(r#"{"fields": ["$"]}"#).is_err());
    }

    #[test]
    fn invalid_event_is_rejected() {
        let mut h = Harness::<Redact>::new(r#"{"fields": ["detail.card"]}"#);
        assert!(h.transform("nope").unwrap_err().is_reject());
    }
}
