//! [`Event`] (the event's JSON text, parsed on first use) and [`Delivery`].

use std::cell::OnceCell;

use serde_json::Value;

use crate::TransformError;
use crate::path::Path;

/// What the host knows about this delivery besides the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery attempt this output is for, from 1.
    pub attempt: u32,
    /// When switchyard received the event, in milliseconds since the Unix epoch.
    pub received_ms: u64,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            attempt: 1,
            received_ms: 0,
        }
    }
}

/// One event as the target would receive it: JSON text, usually an
/// EventBridge envelope (`version`, `id`, `detail-type`, `source`, `account`,
/// `time`, `region`, `resources`, `detail`), but whatever the rule's input
/// shaping produced. The text is parsed only when asked for.
#[derive(Debug)]
pub struct Event {
    text: String,
    json: OnceCell<Value>,
}

impl Event {
    /// An event from its JSON text (not parsed yet).
    pub fn new(text: impl Into<String>) -> Event {
        Event {
            text: text.into(),
            json: OnceCell::new(),
        }
    }

    /// The original text, as the host passed it (not changed by
    /// [`Event::json_mut`]).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original text, owned.
    pub fn into_text(self) -> String {
        self.text
    }

    fn parse(text: &str) -> Result<Value, TransformError> {
        serde_json::from_str(text)
            .map_err(|e| TransformError::reject(format!("event is not valid JSON: {e}")))
    }

    /// The parsed event (parsed on the first call). Invalid JSON is a reject.
    pub fn json(&self) -> Result<&Value, TransformError> {
        if let Some(v) = self.json.get() {
            return Ok(v);
        }
        let v = Event::parse(&self.text)?;
        Ok(self.json.get_or_init(|| v))
    }

    /// The parsed event, mutably, to edit in place before emitting it with
    /// [`Outputs::one`](crate::Outputs::one) (`into_json`).
    pub fn json_mut(&mut self) -> Result<&mut Value, TransformError> {
        self.json()?;
        Ok(self.json.get_mut().expect("parsed just above"))
    }

    /// The parsed event, owned (no copy if already parsed).
    pub fn into_json(self) -> Result<Value, TransformError> {
        match self.json.into_inner() {
            Some(v) => Ok(v),
            None => Event::parse(&self.text),
        }
    }

    /// The value at a dot path, if present.
    pub fn get(&self, path: &Path) -> Result<Option<&Value>, TransformError> {
        Ok(path.get(self.json()?))
    }

    fn top_str(&self, key: &str) -> Result<Option<&str>, TransformError> {
        Ok(self.json()?.get(key).and_then(Value::as_str))
    }

    /// The envelope's `id`, if the event has a string one.
    pub fn id(&self) -> Result<Option<&str>, TransformError> {
        self.top_str("id")
    }

    /// The envelope's `source`, if a string.
    pub fn source(&self) -> Result<Option<&str>, TransformError> {
        self.top_str("source")
    }

    /// The envelope's `detail-type`, if a string.
    pub fn detail_type(&self) -> Result<Option<&str>, TransformError> {
        self.top_str("detail-type")
    }

    /// The envelope's `detail`, if present.
    pub fn detail(&self) -> Result<Option<&Value>, TransformError> {
        Ok(self.json()?.get("detail"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENVELOPE: &str = r#"{"version":"0","id":"e-1","detail-type":"Order Placed","source":"shop","detail":{"n":1}}"#;

    #[test]
    fn text_is_kept_untouched() {
        let e = Event::new("  {\"a\" : 1}  ");
        assert_eq!(e.text(), "  {\"a\" : 1}  ");
        assert_eq!(e.into_text(), "  {\"a\" : 1}  ");
    }

    #[test]
    fn parses_lazily_and_once() {
        let e = Event::new(ENVELOPE);
        assert!(e.json.get().is_none());
        assert_eq!(e.id().unwrap(), Some("e-1"));
        assert!(e.json.get().is_some());
        assert_eq!(e.source().unwrap(), Some("shop"));
        assert_eq!(e.detail_type().unwrap(), Some("Order Placed"));
        assert_eq!(e.detail().unwrap(), Some(&json!({"n": 1})));
        let p = Path::parse("detail.n").unwrap();
        assert_eq!(e.get(&p).unwrap(), Some(&json!(1)));
    }

    #[test]
    fn edits_show_in_into_json_not_text() {
        let mut e = Event::new(ENVELOPE);
        e.json_mut().unwrap()["detail"]["n"] = json!(2);
        assert_eq!(e.text(), ENVELOPE);
        assert_eq!(e.into_json().unwrap()["detail"]["n"], json!(2));
    }

    #[test]
    fn invalid_json_is_a_reject() {
        let e = Event::new("not json");
        let err = e.json().unwrap_err();
        assert!(err.is_reject());
        assert!(err.message().starts_with("event is not valid JSON"));
        assert!(Event::new("{").into_json().unwrap_err().is_reject());
    }
}
