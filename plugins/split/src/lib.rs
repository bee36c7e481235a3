//! `split`: one event per element of a list in the event.
//!
//! Config:
//!
//! ```json
//! {"path": "detail.items", "index": "detail.split-index"}
//! ```
//!
//! - `path` (required): dot path to the list. Each output is the event with
//!   the list replaced by one element.
//! - `index` (optional, default `"detail.split-index"`): where each output
//!   records its element's index (from 0).
//!
//! Each output's `id` (when the event has a string `id`) gets the suffix
//! `-<index>`, so the outputs are distinguishable. An empty list gives no
//! outputs (the event is dropped); an event without the list is rejected.

use switchyard_plugin::path::Path;
use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError, Value};

/// The parsed config.
pub struct Split {
    path: Path,
    index: Path,
}

impl Plugin for Split {
    fn init(config: Config) -> Result<Self, String> {
        let path = config
            .path("path")
            .map_err(|e| format!("split: {e}"))?
            .ok_or_else(|| {
                r#"split: "path" is required: the dot path of the list to split, such as "detail.items""#
                    .to_owned()
            })?;
        if path.segments().is_empty() {
            return Err(r#"split: "path" cannot be the whole event"#.to_owned());
        }
        let index = config
            .path_or("index", "detail.split-index")
            .map_err(|e| format!("split: {e}"))?;
        Ok(Split { path, index })
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let mut json = event.into_json()?;
        // Take the list out first so each copy of the rest is cheap.
        let list = match self.path.get_mut(&mut json) {
            Some(Value::Array(list)) => std::mem::take(list),
            Some(other) => {
                return Err(TransformError::reject(format!(
                    "split: {} must be a list, not {}",
                    self.path,
                    switchyard_plugin::json_kind(other)
                )));
            }
            None => {
                return Err(TransformError::reject(format!(
                    "split: the event has no list at {}",
                    self.path
                )));
            }
        };
        let id = json.get("id").and_then(Value::as_str).map(str::to_owned);
        let mut outputs = Outputs::none();
        for (i, element) in list.into_iter().enumerate() {
            let mut out = json.clone();
            let set = |path: &Path, out: &mut Value, v| {
                path.set(out, v)
                    .map_err(|e| TransformError::reject(format!("split: {e}")))
            };
            set(&self.path, &mut out, element)?;
            set(&self.index, &mut out, Value::from(i))?;
            if let Some(id) = &id {
                out["id"] = Value::String(format!("{id}-{i}"));
            }
            outputs.push(&out);
        }
        Ok(outputs)
    }
}

switchyard_plugin::export_plugin!(Split);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::json;
    use switchyard_plugin::testing::Harness;

    const ORDER: &str = r#"{"id": "o-7", "source": "shop", "detail-type": "Order",
        "detail": {"customer": "c", "items": [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}]}}"#;

    #[test]
    fn one_output_per_element() {
        let mut h = Harness::<Split>::new(r#"{"path": "detail.items"}"#);
        let out = h.transform(ORDER).unwrap();
        assert_eq!(out.len(), 3);
        for (i, sku) in ["a", "b", "c"].into_iter().enumerate() {
            assert_eq!(out[i]["detail"]["items"], json!({"sku": sku}));
            assert_eq!(out[i]["detail"]["split-index"], json!(i));
            assert_eq!(out[i]["detail"]["customer"], json!("c"));
            assert_eq!(out[i]["id"], json!(format!("o-7-{i}")));
            assert_eq!(out[i]["source"], json!("shop"));
        }
    }

    #[test]
    fn custom_index_path_and_no_id() {
        let mut h = Harness::<Split>::new(r#"{"path": "$.list", "index": "meta.n"}"#);
        let out = h.transform(r#"{"list": [{"x": 1}, {"x": 2}]}"#).unwrap();
        assert_eq!(
            out,
            [
                json!({"list": {"x": 1}, "meta": {"n": 0}}),
                json!({"list": {"x": 2}, "meta": {"n": 1}})
            ]
        );
    }

    #[test]
    fn empty_list_drops_the_event() {
        let mut h = Harness::<Split>::new(r#"{"path": "detail.items"}"#);
        assert!(
            h.transform(r#"{"id": "x", "detail": {"items": []}}"#)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn missing_or_scalar_path_is_rejected() {
        let mut h = Harness::<Split>::new(r#"{"path": "detail.items"}"#);
        assert_eq!(
            h.transform(r#"{"detail": {}}"#).unwrap_err(),
            TransformError::reject("split: the event has no list at detail.items")
        );
        assert_eq!(
            h.transform(r#"{"detail": {"items": "abc"}}"#).unwrap_err(),
            TransformError::reject("split: detail.items must be a list, not a string")
        );
    }

    #[test]
    fn config_errors() {
        let err = Harness::<Split>::try_new("{}").err().unwrap();
        assert!(err.starts_with(r#"split: "path" is required"#), "{err}");
        assert!(Harness::<Split>::try_new(r#"{"path": 3}"#).is_err());
        assert!(Harness::<Split>::try_new(r#"{"path": "$"}"#).is_err());
    }
}
