//! What a target receives: `Input`, `InputPath`, `InputTransformer` (its paths map
//! and template), and EventBridge's JSONPath dialect.

use crate::json::{self, Json, JsonValue, Member};
use crate::rules::model::{InputTransformer, JsonPath, TargetInput};

use super::{MAX_DEPTH, Obj, Reader, join};

const MAX_INPUT: usize = 8192;
const MAX_PATH: usize = 256;
const MAX_PATHS_MAP: usize = 100;
const INPUT_FIELDS: &[&str] = &["Input", "InputPath", "InputTransformer"];

/// Variables EventBridge defines for every input template; `InputPathsMap` can not
/// redefine them.
pub const PREDEFINED_VARIABLES: &[&str] = &[
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.json",
    "aws.events.event.ingestion-time",
];

impl Reader<'_> {
    /// `Input`, `InputPath` or `InputTransformer`: at most one.
    pub(super) fn target_input(&mut self, obj: &Obj, location: &str) -> Option<TargetInput> {
        let given: Vec<&Member> = INPUT_FIELDS.iter().filter_map(|k| obj.member(k)).collect();
        if let [first, second, ..] = given.as_slice() {
            let (first, second) = if first.key_span.start < second.key_span.start {
                (first, second)
            } else {
                (second, first)
            };
            self.problem_at(
                second.key_span.start,
                &join(location, &second.key),
                format!(
                    "Input, InputPath and InputTransformer exclude each other, but {} and {} are both given: keep one",
                    first.key, second.key
                ),
            );
            return None;
        }
        let Some(member) = given.first() else {
            return Some(TargetInput::MatchedEvent);
        };
        let here = join(location, &member.key);
        let json = &member.value;
        match member.key.as_str() {
            "Input" => self.constant_input(json, &here),
            "InputPath" => self.json_path(json, &here).map(TargetInput::Path),
            _ => self
                .input_transformer(json, &here)
                .map(TargetInput::Transformer),
        }
    }

    /// `Input`: JSON text in a string (EventBridge), or the JSON value itself.
    fn constant_input(&mut self, json: &Json, location: &str) -> Option<TargetInput> {
        let JsonValue::String(text) = &json.value else {
            return Some(TargetInput::Constant(json.to_string()));
        };
        if text.chars().count() > MAX_INPUT {
            self.problem(
                json,
                location,
                format!("the input is too long: use at most {MAX_INPUT} characters"),
            );
            return None;
        }
        match json::parse(text, MAX_DEPTH) {
            Ok(_) => Some(TargetInput::Constant(text.clone())),
            Err(e) => {
                let offset = self.string_offset(json, e.offset);
                self.problem_at(
                    offset,
                    location,
                    format!(
                        "Input must be JSON text, but {}; to send a plain string, quote it: \"\\\"text\\\"\"",
                        e.message
                    ),
                );
                None
            }
        }
    }

    pub(super) fn json_path(&mut self, json: &Json, location: &str) -> Option<JsonPath> {
        let text = self.string(json, location)?;
        match eventbridge_json_path(text) {
            Ok(path) => Some(path),
            Err((offset, reason)) => {
                let offset = self.string_offset(json, offset);
                self.problem_at(
                    offset,
                    location,
                    format!("\"{text}\" is not a JSONPath EventBridge accepts: {reason}"),
                );
                None
            }
        }
    }

    fn input_transformer(&mut self, json: &Json, location: &str) -> Option<InputTransformer> {
        let before = self.problems.len();
        let obj = self.object(json, location, &["InputPathsMap", "InputTemplate"])?;
        let mut map: Vec<(String, JsonPath)> = Vec::new();
        let mut declared: Vec<&str> = Vec::new();
        if let Some(v) = obj.get("InputPathsMap") {
            let here = join(location, "InputPathsMap");
            if let Some(members) = self.members(v, &here) {
                if members.len() > MAX_PATHS_MAP {
                    self.problem(
                        &members[MAX_PATHS_MAP].value,
                        &here,
                        format!(
                            "{} variables is more than the limit of {MAX_PATHS_MAP}",
                            members.len()
                        ),
                    );
                }
                for m in members {
                    if !PREDEFINED_VARIABLES.contains(&m.key.as_str()) {
                        declared.push(&m.key);
                    }
                    let at = join(&here, &m.key);
                    if PREDEFINED_VARIABLES.contains(&m.key.as_str()) {
                        self.problem_at(
                            m.key_span.start,
                            &at,
                            format!(
                                "\"{}\" is a predefined variable and cannot be redefined: choose another name",
                                m.key
                            ),
                        );
                    } else if m.key.is_empty()
                        || m.key.chars().count() > MAX_PATH
                        || !m
                            .key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        self.problem_at(
                            m.key_span.start,
                            &at,
                            format!(
                                "\"{}\" is not a valid variable name: use letters, digits, '_' or '-'",
                                m.key
                            ),
                        );
                    } else if let Some(path) = self.json_path(&m.value, &at) {
                        map.push((m.key.clone(), path));
                    }
                }
            }
        }
        let template = match obj.get("InputTemplate") {
            Some(v) => self.input_template(v, &join(location, "InputTemplate"), &declared),
            None => {
                self.missing(&obj, location, "InputTemplate");
                None
            }
        };
        if self.problems.len() != before {
            return None;
        }
        Some(InputTransformer {
            input_paths_map: map,
            input_template: template?,
        })
    }

    fn input_template(&mut self, json: &Json, location: &str, declared: &[&str]) -> Option<String> {
        let template = self.string(json, location)?;
        let count = template.chars().count();
        if count == 0 || count > MAX_INPUT {
            self.problem(
                json,
                location,
                format!("the template must be 1 to {MAX_INPUT} characters long"),
            );
            return None;
        }
        let mut ok = true;
        for (offset, name) in placeholders(template) {
            let known = declared.contains(&name) || PREDEFINED_VARIABLES.contains(&name);
            if !known {
                let defined: Vec<String> = declared.iter().map(|k| format!("<{k}>")).collect();
                let defined = if defined.is_empty() {
                    "InputPathsMap defines none".to_string()
                } else {
                    format!("InputPathsMap defines {}", defined.join(", "))
                };
                self.problem_at(
                    self.string_offset(json, offset),
                    location,
                    format!(
                        "unknown placeholder <{name}>: {defined}; the predefined ones are <{}>",
                        PREDEFINED_VARIABLES.join(">, <")
                    ),
                );
                ok = false;
            }
        }
        if let Err(message) = check_json_template(template) {
            self.problem(json, location, message);
            ok = false;
        }
        ok.then(|| template.to_string())
    }
}

/// Validates a JSONPath in EventBridge's dialect: `$`, then `.name` (letters,
/// digits, `_`, `-`, `/`), `.*`, `[index]` or `[*]`. Returns the path with its
/// RFC 9535 form (checked by `jsonpath-rust`), or the byte offset and reason.
pub fn eventbridge_json_path(text: &str) -> Result<JsonPath, (usize, String)> {
    if text.len() > MAX_PATH {
        return Err((0, format!("it is longer than {MAX_PATH} characters")));
    }
    let Some(rest) = text.strip_prefix('$') else {
        return Err((
            0,
            "a path starts with $ (the whole event), as in $.detail.state".into(),
        ));
    };
    let mut normalized = String::from("$");
    let bytes = rest.as_bytes();
    let mut i = 0;
    let at = |i: usize| i + 1; // offsets in `text`, past the `$`
    while i < bytes.len() {
        match bytes[i] {
            b'.' => {
                if bytes.get(i + 1) == Some(&b'.') {
                    return Err((at(i), "recursive descent (..) is not supported".into()));
                }
                let start = i + 1;
                let end = start
                    + rest[start..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || "_-/*".contains(c)))
                        .unwrap_or(rest.len() - start);
                let name = &rest[start..end];
                if name.is_empty() {
                    return Err((at(start), "expected a field name after '.'".into()));
                }
                if name == "*" {
                    normalized.push_str("[*]");
                } else if name.contains('*') {
                    return Err((at(start), "'*' stands alone, as in $.detail.*".into()));
                } else {
                    normalized.push_str(&format!("['{name}']"));
                }
                i = end;
            }
            b'[' => {
                let close = rest[i..].find(']').map(|j| i + j);
                let inner = close.map(|c| &rest[i + 1..c]);
                match inner {
                    Some("*") => normalized.push_str("[*]"),
                    Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                        normalized.push_str(&format!("[{n}]"));
                    }
                    Some(n) if n.starts_with('\'') || n.starts_with('"') => {
                        return Err((
                            at(i),
                            "use dot notation ($.detail.name), not bracket notation".into(),
                        ));
                    }
                    _ => {
                        return Err((at(i), "expected an array index such as [0] or [*]".into()));
                    }
                }
                i = close.map_or(bytes.len(), |c| c + 1);
            }
            _ => {
                let c = rest[i..].chars().next().unwrap_or('?');
                return Err((
                    at(i),
                    format!(
                        "unexpected '{c}': write fields as .name with letters, digits, '_', '-' or '/'"
                    ),
                ));
            }
        }
    }
    jsonpath_rust::parser::parse_json_path(&normalized).map_err(|e| (0, e.to_string()))?;
    Ok(JsonPath {
        text: text.to_string(),
        normalized,
    })
}

/// Every `<name>` placeholder in a template: byte offset of `<` and the name.
pub fn placeholders(template: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut rest = template;
    let mut base = 0;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_-.".contains(c)))
            .unwrap_or(after.len());
        if len > 0 && after[len..].starts_with('>') {
            found.push((base + open, &after[..len]));
        }
        base += open + 1;
        rest = after;
    }
    found
}

/// A template cut at its placeholders, each knowing whether it stands inside a
/// JSON string (after an odd number of unescaped quotes). Validation here and
/// `transform::input` both read templates through this, so they agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePiece<'t> {
    Text(&'t str),
    Placeholder { name: &'t str, in_string: bool },
}

pub fn template_pieces(template: &str) -> Vec<TemplatePiece<'_>> {
    let mut pieces = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    let mut text_start = 0;
    let mut i = 0;
    let spots = placeholders(template);
    let mut spots = spots.iter().peekable();
    while i < template.len() {
        if let Some(&&(_, name)) = spots.peek().filter(|(at, _)| *at == i) {
            spots.next();
            if text_start < i {
                pieces.push(TemplatePiece::Text(&template[text_start..i]));
            }
            pieces.push(TemplatePiece::Placeholder { name, in_string });
            i += name.len() + 2;
            text_start = i;
            continue;
        }
        let c = template[i..].chars().next().unwrap_or('\0');
        if in_string && escaped {
            escaped = false;
        } else if in_string && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
        i += c.len_utf8();
    }
    if text_start < template.len() {
        pieces.push(TemplatePiece::Text(&template[text_start..]));
    }
    pieces
}

/// A template that starts like JSON (`{` or `[`) must be JSON once its placeholders
/// are filled, and placeholders cannot be object keys (EventBridge's rules).
fn check_json_template(template: &str) -> Result<(), String> {
    if !template.trim_start().starts_with(['{', '[']) {
        return Ok(());
    }
    // Fill placeholders inside strings with a NUL escape (to spot keys later) and
    // outside strings with null.
    let mut filled = String::with_capacity(template.len());
    for piece in template_pieces(template) {
        match piece {
            TemplatePiece::Text(text) => filled.push_str(text),
            TemplatePiece::Placeholder { in_string, .. } => {
                filled.push_str(if in_string { "\\u0000" } else { "null" })
            }
        }
    }
    let doc = json::parse(&filled, MAX_DEPTH).map_err(|e| {
        format!(
            "the template starts like JSON but is not JSON once placeholders are filled: {}",
            e.message
        )
    })?;
    if has_placeholder_key(&doc) {
        return Err("a placeholder cannot be used as an object key".into());
    }
    Ok(())
}

fn has_placeholder_key(json: &Json) -> bool {
    match &json.value {
        JsonValue::Object(members) => members
            .iter()
            .any(|m| m.key.contains('\0') || has_placeholder_key(&m.value)),
        JsonValue::Array(items) => items.iter().any(has_placeholder_key),
        _ => false,
    }
}
