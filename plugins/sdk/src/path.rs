//! Dot paths into JSON values: `detail.customer.email`, `$.detail.items.0`.
//!
//! A path is `.`-separated keys, optionally prefixed by `$.` (`$` alone is the
//! whole value). A segment that is a decimal number indexes a list when the
//! value there is a list, and is an ordinary key in an object. Keys cannot
//! contain `.`.

use std::fmt;

use serde_json::{Map, Value};

/// A parsed dot path. Parse once (in `init`), use on every event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    text: String,
    segments: Vec<String>,
}

impl Path {
    /// Parses `detail.customer.email`, `$.detail.card` or `$` (the root).
    pub fn parse(text: &str) -> Result<Path, String> {
        let body = if text == "$" {
            ""
        } else {
            text.strip_prefix("$.").unwrap_or(text)
        };
        if body.is_empty() && text != "$" {
            return Err(format!(
                "path {text:?} is empty: use dot paths such as \"detail.customer.email\""
            ));
        }
        let segments: Vec<String> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('.').map(str::to_owned).collect()
        };
        if segments.iter().any(String::is_empty) {
            return Err(format!(
                "path {text:?} has an empty segment: use dot paths such as \"detail.customer.email\""
            ));
        }
        Ok(Path {
            text: text.to_owned(),
            segments,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The keys, without the `$.` prefix (empty for the root).
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The value at this path, if every step exists.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.segments
            .iter()
            .try_fold(root, |value, segment| step(value, segment))
    }

    /// The value at this path, mutably, if every step exists.
    pub fn get_mut<'a>(&self, root: &'a mut Value) -> Option<&'a mut Value> {
        self.segments
            .iter()
            .try_fold(root, |value, segment| step_mut(value, segment))
    }

    /// Sets the value at this path, creating missing (or `null`) objects on
    /// the way, and returns the value it replaced. Fails when a step is a
    /// scalar, or a list index out of range.
    pub fn set(&self, root: &mut Value, new: Value) -> Result<Option<Value>, String> {
        let Some((last, parents)) = self.segments.split_last() else {
            return Ok(Some(std::mem::replace(root, new)));
        };
        let mut value = root;
        for segment in parents {
            value = child_or_create(value, segment).ok_or_else(|| self.blocked(segment))?;
        }
        if value.is_null() {
            *value = Value::Object(Map::new());
        }
        match value {
            Value::Object(map) => Ok(map.insert(last.clone(), new)),
            Value::Array(list) => match index(last).and_then(|i| list.get_mut(i)) {
                Some(slot) => Ok(Some(std::mem::replace(slot, new))),
                None => Err(self.blocked(last)),
            },
            _ => Err(self.blocked(last)),
        }
    }

    /// Removes the value at this path from its object and returns it; in a
    /// list the element is replaced by `null` (so other indices keep their
    /// meaning). The root cannot be removed: it is replaced by `null`.
    pub fn take(&self, root: &mut Value) -> Option<Value> {
        let Some((last, parents)) = self.segments.split_last() else {
            return Some(root.take());
        };
        let mut value = root;
        for segment in parents {
            value = step_mut(value, segment)?;
        }
        match value {
            Value::Object(map) => map.shift_remove(last.as_str()),
            Value::Array(list) => index(last).and_then(|i| list.get_mut(i)).map(Value::take),
            _ => None,
        }
    }

    fn blocked(&self, segment: &str) -> String {
        format!(
            "cannot set {}: no object or list element at {segment:?}",
            self.text
        )
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Path {
    type Err = String;
    fn from_str(s: &str) -> Result<Path, String> {
        Path::parse(s)
    }
}

fn index(segment: &str) -> Option<usize> {
    if segment.bytes().all(|b| b.is_ascii_digit()) {
        segment.parse().ok()
    } else {
        None
    }
}

fn step<'a>(value: &'a Value, segment: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(segment),
        Value::Array(list) => list.get(index(segment)?),
        _ => None,
    }
}

fn step_mut<'a>(value: &'a mut Value, segment: &str) -> Option<&'a mut Value> {
    match value {
        Value::Object(map) => map.get_mut(segment),
        Value::Array(list) => list.get_mut(index(segment)?),
        _ => None,
    }
}

fn child_or_create<'a>(value: &'a mut Value, segment: &str) -> Option<&'a mut Value> {
    if value.is_null() {
        *value = Value::Object(Map::new());
    }
    match value {
        Value::Object(map) => {
            let child = map.entry(segment).or_insert(Value::Null);
            if child.is_null() {
                *child = Value::Object(Map::new());
            }
            Some(child)
        }
        Value::Array(list) => list.get_mut(index(segment)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_with_and_without_prefix() {
        let a = Path::parse("detail.customer.email").unwrap();
        let b = Path::parse("$.detail.customer.email").unwrap();
        assert_eq!(a.segments(), b.segments());
        assert_eq!(a.segments(), ["detail", "customer", "email"]);
        assert_eq!(b.as_str(), "$.detail.customer.email");
        assert!(Path::parse("$").unwrap().segments().is_empty());
        assert!(Path::parse("").is_err());
        assert!(Path::parse("$.").is_err());
        assert!(Path::parse("detail..card").is_err());
        assert!(Path::parse(".detail").is_err());
    }

    #[test]
    fn gets_through_objects_and_lists() {
        let v = json!({"detail": {"items": [{"sku": "a"}, {"sku": "b"}], "0": "zero"}});
        let p = |s| Path::parse(s).unwrap();
        assert_eq!(p("detail.items.1.sku").get(&v), Some(&json!("b")));
        assert_eq!(p("detail.0").get(&v), Some(&json!("zero")));
        assert_eq!(p("detail.items.2").get(&v), None);
        assert_eq!(p("detail.missing.deeper").get(&v), None);
        assert_eq!(p("$").get(&v), Some(&v));
    }

    #[test]
    fn set_creates_objects_and_reports_scalars() {
        let mut v = json!({"detail": {"n": 1, "list": [1, 2]}});
        let p = |s| Path::parse(s).unwrap();
        assert_eq!(p("detail.n").set(&mut v, json!(2)).unwrap(), Some(json!(1)));
        assert_eq!(p("detail.new.deep").set(&mut v, json!(true)).unwrap(), None);
        assert_eq!(
            p("detail.list.1").set(&mut v, json!(9)).unwrap(),
            Some(json!(2))
        );
        assert_eq!(
            v,
            json!({"detail": {"n": 2, "list": [1, 9], "new": {"deep": true}}})
        );
        assert!(p("detail.n.x").set(&mut v, json!(0)).is_err());
        assert!(p("detail.list.5").set(&mut v, json!(0)).is_err());
    }

    #[test]
    fn take_removes_keys_and_nulls_list_elements() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "l": [1, 2]});
        let p = |s| Path::parse(s).unwrap();
        assert_eq!(p("a.b").take(&mut v), Some(json!(1)));
        assert_eq!(p("l.0").take(&mut v), Some(json!(1)));
        assert_eq!(p("a.zzz").take(&mut v), None);
        assert_eq!(v, json!({"a": {"c": 2}, "l": [null, 2]}));
    }
}
