//! [`Config`]: typed access to the target's `Config` object that `init` gets.
//!
//! Accessors return `Ok(None)` for a key that is absent (or `null`), and an
//! `Err` naming the key and the expected kind when it has the wrong kind, so
//! `init` can pass the message on with `?`.

use serde_json::{Map, Value};

use crate::path::Path;

/// The plugin's config: a JSON object. The host adds `"rule"` (the rule's
/// name) and `"target"` (the target's Id) to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    map: Map<String, Value>,
}

/// How a JSON value's kind reads in an error message ("a string", "a list").
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Config {
    /// Parses the JSON text `init` gets: an object (or `null`, as `{}`).
    pub fn parse(text: &str) -> Result<Config, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("config is not valid JSON: {e}"))?;
        Config::from_value(value)
    }

    /// A config from an already-parsed value: an object (or `null`, as `{}`).
    pub fn from_value(value: Value) -> Result<Config, String> {
        match value {
            Value::Object(map) => Ok(Config { map }),
            Value::Null => Ok(Config { map: Map::new() }),
            other => Err(format!(
                "config must be a JSON object, not {}",
                kind(&other)
            )),
        }
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// The whole object, owned (e.g. to deserialize it with serde).
    pub fn into_value(self) -> Value {
        Value::Object(self.map)
    }

    /// The raw value of `key`; `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Whether `key` is present and not `null`.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The rule's name, as the host added it.
    pub fn rule(&self) -> Option<&str> {
        self.map.get("rule").and_then(Value::as_str)
    }

    /// The target's Id, as the host added it.
    pub fn target(&self) -> Option<&str> {
        self.map.get("target").and_then(Value::as_str)
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        want: &str,
        f: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .ok_or_else(|| format!("{key:?} must be {want}, not {}", kind(v))),
        }
    }

    /// `key` as a string.
    pub fn str(&self, key: &str) -> Result<Option<&str>, String> {
        self.typed(key, "a string", Value::as_str)
    }

    /// `key` as a string, or `default` when absent.
    pub fn str_or<'a>(&'a self, key: &str, default: &'a str) -> Result<&'a str, String> {
        Ok(self.str(key)?.unwrap_or(default))
    }

    /// `key` as a string, which must be present.
    pub fn require_str(&self, key: &str) -> Result<&str, String> {
        self.str(key)?
            .ok_or_else(|| format!("{key:?} is required (a string)"))
    }

    /// `key` as a boolean.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        self.typed(key, "a boolean", Value::as_bool)
    }

    /// `key` as a boolean, or `default` when absent.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, String> {
        Ok(self.bool(key)?.unwrap_or(default))
    }

    /// `key` as a non-negative integer.
    pub fn u64(&self, key: &str) -> Result<Option<u64>, String> {
        self.typed(key, "a non-negative integer", Value::as_u64)
    }

    /// `key` as a non-negative integer, or `default` when absent.
    pub fn u64_or(&self, key: &str, default: u64) -> Result<u64, String> {
        Ok(self.u64(key)?.unwrap_or(default))
    }

    /// `key` as an integer.
    pub fn i64(&self, key: &str) -> Result<Option<i64>, String> {
        self.typed(key, "an integer", Value::as_i64)
    }

    /// `key` as a number.
    pub fn f64(&self, key: &str) -> Result<Option<f64>, String> {
        self.typed(key, "a number", Value::as_f64)
    }

    /// `key` as a number, or `default` when absent.
    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64, String> {
        Ok(self.f64(key)?.unwrap_or(default))
    }

    /// `key` as a list (of anything).
    pub fn list(&self, key: &str) -> Result<Option<&[Value]>, String> {
        self.typed(key, "a list", |v| v.as_array().map(Vec::as_slice))
    }

    /// `key` as an object.
    pub fn object(&self, key: &str) -> Result<Option<&Map<String, Value>>, String> {
        self.typed(key, "an object", Value::as_object)
    }

    /// `key` as a list of strings.
    pub fn str_list(&self, key: &str) -> Result<Option<Vec<&str>>, String> {
        self.typed(key, "a list of strings", |v| {
            v.as_array()?.iter().map(Value::as_str).collect()
        })
    }

    /// `key` as a dot path (see [`Path`]).
    pub fn path(&self, key: &str) -> Result<Option<Path>, String> {
        self.str(key)?
            .map(|s| Path::parse(s).map_err(|e| format!("{key:?}: {e}")))
            .transpose()
    }

    /// `key` as a dot path, or `default` when absent.
    pub fn path_or(&self, key: &str, default: &str) -> Result<Path, String> {
        match self.path(key)? {
            Some(p) => Ok(p),
            None => Path::parse(default).map_err(|e| format!("{key:?}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        Config::parse(text).unwrap()
    }

    #[test]
    fn parses_objects_only() {
        assert!(cfg("null").as_map().is_empty());
        assert!(Config::parse("[1]").unwrap_err().contains("not a list"));
        assert!(Config::parse("{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn rule_and_target() {
        let c = cfg(r#"{"rule": "orders", "target": "t1"}"#);
        assert_eq!(c.rule(), Some("orders"));
        assert_eq!(c.target(), Some("t1"));
        assert_eq!(cfg("{}").rule(), None);
    }

    #[test]
    fn typed_accessors() {
        let c = cfg(
            r#"{"s": "x", "b": true, "n": 7, "f": 1.5, "neg": -2, "l": ["a", "b"], "mixed": ["a", 1], "nul": null}"#,
        );
        assert_eq!(c.str("s"), Ok(Some("x")));
        assert_eq!(c.str_or("missing", "d"), Ok("d"));
        assert_eq!(c.str_or("nul", "d"), Ok("d"));
        assert_eq!(
            c.str("n"),
            Err(r#""n" must be a string, not a number"#.into())
        );
        assert_eq!(
            c.require_str("missing"),
            Err(r#""missing" is required (a string)"#.into())
        );
        assert_eq!(c.bool_or("b", false), Ok(true));
        assert_eq!(c.u64("n"), Ok(Some(7)));
        assert!(c.u64("neg").is_err());
        assert_eq!(c.i64("neg"), Ok(Some(-2)));
        assert_eq!(c.f64_or("f", 0.0), Ok(1.5));
        assert_eq!(c.str_list("l"), Ok(Some(vec!["a", "b"])));
        assert_eq!(
            c.str_list("mixed"),
            Err(r#""mixed" must be a list of strings, not a list"#.into())
        );
        assert_eq!(c.list("l").unwrap().unwrap().len(), 2);
        assert!(c.object("s").is_err());
    }

    #[test]
    fn paths() {
        let c = cfg(r#"{"p": "$.detail.items", "bad": "a..b"}"#);
        assert_eq!(
            c.path("p").unwrap().unwrap().segments(),
            ["detail", "items"]
        );
        assert_eq!(c.path_or("q", "detail.x").unwrap().as_str(), "detail.x");
        assert!(c.path("bad").unwrap_err().starts_with("\"bad\": "));
    }
}
