//! The `Http` destination: `Endpoint`, `Method`, `Headers`.

use crate::json::{Json, JsonValue};
use crate::rules::model::Destination;

use super::{Reader, join};

impl Reader<'_> {
    pub(super) fn http(&mut self, json: &Json, location: &str) -> Option<Destination> {
        let o = self.object(json, location, &["Endpoint", "Method", "Headers"])?;
        let endpoint = match o.get("Endpoint") {
            Some(v) => {
                let here = join(location, "Endpoint");
                self.string(v, &here).and_then(|s| {
                    let rest = s
                        .strip_prefix("http://")
                        .or_else(|| s.strip_prefix("https://"));
                    match rest {
                        Some(rest)
                            if !rest.is_empty()
                                && !rest.starts_with('/')
                                && !s.chars().any(char::is_whitespace) =>
                        {
                            Some(s)
                        }
                        _ => {
                            self.problem(
                                v,
                                &here,
                                format!("\"{s}\" is not an http:// or https:// URL with a host"),
                            );
                            None
                        }
                    }
                })
            }
            None => {
                self.missing(&o, location, "Endpoint");
                None
            }
        };
        let method = match o.get("Method") {
            None => Some("POST"),
            Some(v) => {
                let here = join(location, "Method");
                match self.string(v, &here) {
                    Some(m @ ("POST" | "PUT" | "PATCH")) => Some(m),
                    Some(other) => {
                        self.problem(
                            v,
                            &here,
                            format!("\"{other}\" is not a delivery method: use POST, PUT or PATCH"),
                        );
                        None
                    }
                    None => None,
                }
            }
        };
        let mut headers = Vec::new();
        let mut headers_ok = true;
        if let Some(v) = o.get("Headers") {
            let here = join(location, "Headers");
            match &v.value {
                JsonValue::Object(members) => {
                    for m in members {
                        let at = join(&here, &m.key);
                        let valid_name = !m.key.is_empty()
                            && m.key.bytes().all(|b| {
                                b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
                            });
                        if !valid_name {
                            self.problem_at(
                                m.key_span.start,
                                &at,
                                format!("\"{}\" is not a valid HTTP header name", m.key),
                            );
                            headers_ok = false;
                        }
                        match self.string(&m.value, &at) {
                            Some(value) if value.chars().any(char::is_control) => {
                                self.problem(
                                    &m.value,
                                    &at,
                                    "header values cannot hold control characters".into(),
                                );
                                headers_ok = false;
                            }
                            Some(value) => headers.push((m.key.clone(), value.to_string())),
                            None => headers_ok = false,
                        }
                    }
                }
                _ => {
                    self.type_problem(v, &here, "an object of header names to values");
                    headers_ok = false;
                }
            }
        }
        if !headers_ok {
            return None;
        }
        Some(Destination::Http {
            endpoint: endpoint?.to_string(),
            method: method?.to_string(),
            headers,
        })
    }
}
