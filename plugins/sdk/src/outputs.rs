//! [`Outputs`]: what `transform` returns, as the JSON texts the host gets.

use serde_json::Value;

use crate::Event;

/// Zero, one or several output events, each JSON text. `[]` drops the event,
/// one rewrites it, several split it. The host requires each to be a JSON
/// object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs(Vec<String>);

impl Outputs {
    /// No outputs: the event is dropped.
    pub fn none() -> Outputs {
        Outputs(Vec::new())
    }

    /// The event's original text, untouched and unparsed (the fast path).
    pub fn pass(event: Event) -> Outputs {
        Outputs(vec![event.into_text()])
    }

    /// One event, serialized.
    pub fn one(value: Value) -> Outputs {
        Outputs(vec![value.to_string()])
    }

    /// Several events, serialized.
    pub fn many(values: impl IntoIterator<Item = Value>) -> Outputs {
        values.into_iter().collect()
    }

    /// One event given as JSON text, sent as is (the host checks it).
    pub fn raw(text: impl Into<String>) -> Outputs {
        Outputs(vec![text.into()])
    }

    /// Adds an event, serialized.
    pub fn push(&mut self, value: &Value) {
        self.0.push(value.to_string());
    }

    /// Adds an event given as JSON text, sent as is.
    pub fn push_raw(&mut self, text: impl Into<String>) {
        self.0.push(text.into());
    }

    /// How many outputs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (the event is dropped).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The outputs' texts.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The outputs' texts, owned: what the host receives.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl From<Value> for Outputs {
    fn from(value: Value) -> Outputs {
        Outputs::one(value)
    }
}

impl FromIterator<Value> for Outputs {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Outputs {
        Outputs(iter.into_iter().map(|v| v.to_string()).collect())
    }
}

impl Extend<Value> for Outputs {
    fn extend<I: IntoIterator<Item = Value>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(|v| v.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builders() {
        assert!(Outputs::none().is_empty());
        let text = "{ \"keep\" : \"spacing\" }";
        assert_eq!(Outputs::pass(Event::new(text)).into_vec(), [text]);
        assert_eq!(Outputs::one(json!({"a": 1})).into_vec(), [r#"{"a":1}"#]);
        assert_eq!(Outputs::raw("x").as_slice(), ["x"]);
        let m = Outputs::many([json!({"i": 0}), json!({"i": 1})]);
        assert_eq!(m.len(), 2);
        assert_eq!(m.as_slice()[1], r#"{"i":1}"#);
        let mut o = Outputs::from(json!({}));
        o.push(&json!({"b": 2}));
        o.push_raw("{}");
        o.extend([json!(null)]);
        assert_eq!(o.into_vec(), ["{}", r#"{"b":2}"#, "{}", "null"]);
    }
}
