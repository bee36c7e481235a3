//! One target's input shaping: what EventBridge's `Input`, `InputPath` and
//! `InputTransformer` make of a matched event.
//!
//! `CompiledInput::new` does every per-target step once (JSONPaths parsed with
//! `jsonpath-rust`, the template split into literal text and slots, each slot knowing
//! whether it stands inside a JSON string); `shape` only looks values up and fills
//! them in. The event is parsed (serde_json, keeping key order) at most once per
//! event, and only when a target needs a value from it: the matched event itself and
//! `Input` constants never parse it.
//!
//! The rules (EventBridge's, as recorded against AWS):
//! - A template whose first non-blank character is `{` or `[` is a JSON template;
//!   anything else (a quoted string, several quoted lines, plain text) is a text
//!   template, delivered as written (quotes included, no escape processing) with its
//!   placeholders filled.
//! - In a JSON template, a placeholder outside a string becomes the value's JSON (a
//!   string gets quotes and escaping; objects and arrays are compact JSON); a missing
//!   value becomes `""`. Inside a JSON string the value's text goes in unescaped
//!   (strings without quotes, objects and arrays as their JSON text), a missing value
//!   as nothing. The filled template must be JSON, or shaping fails.
//! - In a text template, strings go in as their text, numbers, booleans and `null`
//!   as their JSON, objects and arrays as compact JSON with every `"` removed
//!   (`{acc_id:0a787ecb,sf_id:baz}`, `[ACTIVE,INACTIVE]`), missing values as nothing.
//! - `<aws.events.event>` is the event without `detail`, with its envelope fields
//!   in the order and naming AWS was recorded delivering (`id`, `account`,
//!   `detailType`, `time`, `source`, `region`, `resources`, `version`);
//!   `<aws.events.event.json>` is the envelope bytes exactly as received.
//! - A path with a wildcard (`[*]`, `.*`) selects an array of every match (`[]`
//!   when none does); a path without one selects one value or nothing.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

use crate::rules::parse::{TemplatePiece, template_pieces};
use crate::rules::{JsonPath, TargetInput};

/// `ShapeError::code` when a JSON template is not JSON once its placeholders are filled.
pub const INVALID_JSON: &str = "InputTransformerInvalidJson";
/// `ShapeError::code` when an `InputPath` without wildcards selects nothing.
pub const INPUT_PATH_NO_MATCH: &str = "InputPathNoMatch";
/// `ShapeError::code` when the event bytes are not a JSON object (the router
/// validates events at ingest, so this means a caller broke that promise).
pub const INVALID_EVENT: &str = "InvalidEvent";

/// `ShapeError::code` when the event holds a number beyond the range of an f64
/// (such as `1e400`), which the router accepts but shaping cannot carry.
pub const NUMBER_OUT_OF_RANGE: &str = "EventNumberOutOfRange";

/// How much of a filled template an error message quotes.
const QUOTED_PAYLOAD: usize = 200;

/// Why a target's payload cannot be built. `code` becomes the dead-letter
/// `ERROR_CODE`; `message` says what went wrong, for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ShapeError {}

/// The event being shaped: the exact envelope JSON bytes the router holds (already
/// validated, an object), parsed lazily at most once, and only if some target's
/// shaping needs a value from it. Share one view among all targets of an event.
pub struct EventView<'a> {
    bytes: &'a [u8],
    parsed: OnceLock<Result<Value, ShapeError>>,
}

impl<'a> EventView<'a> {
    pub fn new(envelope_json: &'a [u8]) -> Self {
        EventView {
            bytes: envelope_json,
            parsed: OnceLock::new(),
        }
    }

    /// The envelope bytes as given.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn value(&self) -> Result<&Value, ShapeError> {
        self.parsed
            .get_or_init(|| match serde_json::from_slice::<Value>(self.bytes) {
                Ok(v @ Value::Object(_)) => Ok(v),
                Ok(other) => Err(ShapeError {
                    code: INVALID_EVENT,
                    message: format!(
                        "the event is a JSON {}, not an object",
                        json_type_name(&other)
                    ),
                }),
                // The router's reader accepts numbers such as 1e400 (they match by
                // their text); serde_json's f64 cannot hold them.
                Err(e) if e.to_string().starts_with("number out of range") => Err(ShapeError {
                    code: NUMBER_OUT_OF_RANGE,
                    message: format!(
                        "the event holds a number beyond the range of a 64-bit float, which InputPath and InputTransformer cannot carry: {e}"
                    ),
                }),
                Err(e) => Err(ShapeError {
                    code: INVALID_EVENT,
                    message: format!("the event is not valid JSON: {e}"),
                }),
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// What the predefined variables stand for when one rule's target is shaped.
#[derive(Debug, Clone, Copy)]
pub struct ShapeContext<'a> {
    /// `<aws.events.rule-name>`.
    pub rule_name: &'a str,
    /// `<aws.events.rule-arn>`.
    pub rule_arn: &'a str,
    /// `<aws.events.event.ingestion-time>`: RFC 3339, e.g. `2024-01-01T00:00:00Z`.
    pub ingestion_time: &'a str,
}

/// A target's input shaping, built once per target when a rule set is built
/// (JSONPaths parsed, template split), never per event.
#[derive(Debug, Clone)]
pub struct CompiledInput {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// No `Input`, `InputPath` or `InputTransformer`: the envelope bytes unchanged.
    MatchedEvent,
    /// `Input`: these bytes, whatever the event.
    Constant(Vec<u8>),
    /// `InputPath`.
    Path(CompiledPath),
    /// `InputTransformer`.
    Template(Template),
}

/// A JSONPath in EventBridge's dialect, parsed once (also the Kafka target's
/// `KeyPath`).
#[derive(Debug, Clone)]
pub struct CompiledPath {
    text: String,
    selector: Selector,
    /// `[*]` or `.*` somewhere: the result is an array of all matches.
    wildcard: bool,
}

#[derive(Debug, Clone)]
enum Selector {
    /// `$`: the whole event (for `InputPath`, its bytes without a parse).
    Root,
    Query(JpQuery),
    /// A path `jsonpath-rust` refuses (validation at load rules this out): it
    /// selects nothing.
    Nothing,
}

#[derive(Debug, Clone)]
struct Template {
    /// Starts with `{` or `[`: slots outside strings take JSON, and the result must
    /// be JSON.
    json: bool,
    segments: Vec<Segment>,
    /// `InputPathsMap`'s paths, indexed by `Source::Variable`.
    variables: Vec<CompiledPath>,
    /// Some slot reads the event (a variable, `<aws.events.event>`).
    needs_parsed_event: bool,
    /// Bytes of literal text, to size the output.
    literal_len: usize,
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Slot {
        source: Source,
        /// Inside a JSON string of a JSON template.
        in_string: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Variable(usize),
    RuleName,
    RuleArn,
    IngestionTime,
    /// `<aws.events.event>`: the event without `detail` (see `event_without_detail`).
    Event,
    /// `<aws.events.event.json>`: the whole event, as received.
    EventJson,
}

/// Where a slot's value stands in the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// A JSON template, outside strings: the value's JSON.
    JsonValue,
    /// A JSON template, inside a string: the value's text, unescaped.
    JsonString,
    /// A text template.
    Text,
}

/// A value looked up for a slot.
enum Resolved<'e> {
    Missing,
    Text(&'e str),
    Value(Cow<'e, Value>),
    /// JSON text to insert as it is (the envelope for `<aws.events.event.json>`).
    RawJson(&'e [u8]),
}

impl CompiledInput {
    /// Compiles a target's input. The model is validated at load (paths are in
    /// EventBridge's dialect, every placeholder is defined, a JSON template is JSON
    /// once filled), so this cannot fail; a path `jsonpath-rust` still refused would
    /// select nothing, and text that is not a defined placeholder stays text.
    pub fn new(input: &TargetInput) -> CompiledInput {
        let kind = match input {
            TargetInput::MatchedEvent => Kind::MatchedEvent,
            TargetInput::Constant(text) => Kind::Constant(text.as_bytes().to_vec()),
            TargetInput::Path(path) => Kind::Path(CompiledPath::new(path)),
            TargetInput::Transformer(t) => {
                let names: Vec<&str> = t.input_paths_map.iter().map(|(n, _)| n.as_str()).collect();
                let variables = t
                    .input_paths_map
                    .iter()
                    .map(|(_, p)| CompiledPath::new(p))
                    .collect();
                Kind::Template(Template::new(&t.input_template, &names, variables))
            }
        };
        CompiledInput { kind }
    }

    /// The payload bytes the target receives, or why it cannot be built.
    pub fn shape(
        &self,
        event: &EventView<'_>,
        ctx: &ShapeContext<'_>,
    ) -> Result<Vec<u8>, ShapeError> {
        match &self.kind {
            Kind::MatchedEvent => Ok(event.bytes.to_vec()),
            Kind::Constant(bytes) => Ok(bytes.clone()),
            Kind::Path(path) => {
                if matches!(path.selector, Selector::Root) {
                    return Ok(event.bytes.to_vec());
                }
                match path.select(event.value()?) {
                    Some(v) => Ok(to_json(&v).into_bytes()),
                    None => Err(ShapeError {
                        code: INPUT_PATH_NO_MATCH,
                        message: format!(
                            "InputPath {} selects nothing in the event, so there is no payload to send",
                            path.text
                        ),
                    }),
                }
            }
            Kind::Template(t) => t.fill(event, ctx),
        }
    }

    /// True when `shape` returns the envelope bytes unchanged (no `Input`,
    /// `InputPath` or `InputTransformer`, or `InputPath` `$`): a caller may then
    /// send the bytes it holds without copying them.
    pub fn is_matched_event(&self) -> bool {
        match &self.kind {
            Kind::MatchedEvent => true,
            Kind::Path(p) => matches!(p.selector, Selector::Root),
            _ => false,
        }
    }
}

impl CompiledPath {
    pub fn new(path: &JsonPath) -> CompiledPath {
        let selector = if path.normalized == "$" {
            Selector::Root
        } else {
            match jsonpath_rust::parser::parse_json_path(&path.normalized) {
                Ok(query) => Selector::Query(query),
                Err(_) => Selector::Nothing,
            }
        };
        CompiledPath {
            text: path.text.clone(),
            selector,
            wildcard: path.normalized.contains("[*]"),
        }
    }

    /// The value this path selects: one value, or for a wildcard path an array of
    /// every match; `None` when a path without wildcards finds nothing.
    pub fn select<'e>(&self, event: &'e Value) -> Option<Cow<'e, Value>> {
        let found = match &self.selector {
            Selector::Root => return Some(Cow::Borrowed(event)),
            Selector::Query(query) => {
                jsonpath_rust::query::js_path_process(query, event).unwrap_or_default()
            }
            Selector::Nothing => Vec::new(),
        };
        if self.wildcard {
            Some(Cow::Owned(Value::Array(
                found.into_iter().map(|r| r.val.clone()).collect(),
            )))
        } else {
            found.into_iter().next().map(|r| Cow::Borrowed(r.val))
        }
    }
}

impl Template {
    fn new(template: &str, names: &[&str], variables: Vec<CompiledPath>) -> Template {
        let json = template.trim_start().starts_with(['{', '[']);
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut literal_len = 0;
        let mut needs_parsed_event = false;
        for piece in template_pieces(template) {
            let (name, in_string) = match piece {
                TemplatePiece::Text(text) => {
                    literal.push_str(text);
                    continue;
                }
                TemplatePiece::Placeholder { name, in_string } => (name, in_string),
            };
            let source = match names.iter().position(|n| *n == name) {
                Some(k) => Source::Variable(k),
                None => match name {
                    "aws.events.rule-name" => Source::RuleName,
                    "aws.events.rule-arn" => Source::RuleArn,
                    "aws.events.event.ingestion-time" => Source::IngestionTime,
                    "aws.events.event" => Source::Event,
                    "aws.events.event.json" => Source::EventJson,
                    // Not a placeholder (validation rejects these): literal text.
                    _ => {
                        literal.push('<');
                        literal.push_str(name);
                        literal.push('>');
                        continue;
                    }
                },
            };
            needs_parsed_event |= matches!(source, Source::Variable(_) | Source::Event);
            if !literal.is_empty() {
                literal_len += literal.len();
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(Segment::Slot {
                source,
                in_string: json && in_string,
            });
        }
        if !literal.is_empty() {
            literal_len += literal.len();
            segments.push(Segment::Literal(literal));
        }
        Template {
            json,
            segments,
            variables,
            needs_parsed_event,
            literal_len,
        }
    }

    fn fill(&self, event: &EventView<'_>, ctx: &ShapeContext<'_>) -> Result<Vec<u8>, ShapeError> {
        let parsed = if self.needs_parsed_event {
            Some(event.value()?)
        } else {
            None
        };
        let mut out = Vec::with_capacity(self.literal_len + 64);
        for segment in &self.segments {
            let (source, in_string) = match segment {
                Segment::Literal(text) => {
                    out.extend_from_slice(text.as_bytes());
                    continue;
                }
                Segment::Slot { source, in_string } => (*source, *in_string),
            };
            let position = match (self.json, in_string) {
                (true, false) => Position::JsonValue,
                (true, true) => Position::JsonString,
                (false, _) => Position::Text,
            };
            let resolved = match source {
                Source::RuleName => Resolved::Text(ctx.rule_name),
                Source::RuleArn => Resolved::Text(ctx.rule_arn),
                Source::IngestionTime => Resolved::Text(ctx.ingestion_time),
                Source::EventJson => Resolved::RawJson(event.bytes),
                Source::Event => match parsed {
                    Some(event) => Resolved::Value(Cow::Owned(event_without_detail(event))),
                    None => Resolved::Missing,
                },
                Source::Variable(k) => match parsed.and_then(|e| self.variables[k].select(e)) {
                    Some(v) => Resolved::Value(v),
                    None => Resolved::Missing,
                },
            };
            render(&mut out, &resolved, position);
        }
        if self.json
            && let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&out)
        {
            return Err(ShapeError {
                code: INVALID_JSON,
                message: format!(
                    "the InputTemplate starts like JSON but is not JSON once its placeholders are filled from this event: {e}; filled template: {}",
                    quote_payload(&out)
                ),
            });
        }
        Ok(out)
    }
}

/// The envelope fields of `<aws.events.event>`, in the order AWS delivers them
/// (recorded), with the name AWS gives them there: `detail-type` is `detailType`.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("id", "id"),
    ("account", "account"),
    ("detail-type", "detailType"),
    ("time", "time"),
    ("source", "source"),
    ("region", "region"),
    ("resources", "resources"),
    ("version", "version"),
];

/// `<aws.events.event>`: the event without `detail`, as AWS renders it: the
/// envelope fields in `EVENT_FIELDS` order and naming, then any other top-level
/// field in the event's order.
fn event_without_detail(event: &Value) -> Value {
    let Value::Object(map) = event else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for (name, shown_as) in EVENT_FIELDS {
        if let Some(v) = map.get(*name) {
            out.insert((*shown_as).to_string(), v.clone());
        }
    }
    for (k, v) in map {
        let known = EVENT_FIELDS.iter().any(|(name, _)| name == k);
        if !known && k != "detail" {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Appends one slot's value as it stands at `position`.
fn render(out: &mut Vec<u8>, value: &Resolved<'_>, position: Position) {
    match value {
        Resolved::Missing => {
            if position == Position::JsonValue {
                out.extend_from_slice(b"\"\"");
            }
        }
        Resolved::Text(s) => render_str(out, s, position),
        Resolved::RawJson(bytes) => match position {
            Position::Text => out.extend(bytes.iter().copied().filter(|&b| b != b'"')),
            _ => out.extend_from_slice(bytes),
        },
        Resolved::Value(v) => match v.as_ref() {
            Value::String(s) => render_str(out, s, position),
            Value::Array(_) | Value::Object(_) => {
                let json = to_json(v);
                match position {
                    Position::Text => out.extend(json.bytes().filter(|&b| b != b'"')),
                    _ => out.extend_from_slice(json.as_bytes()),
                }
            }
            scalar => out.extend_from_slice(to_json(scalar).as_bytes()),
        },
    }
}

fn render_str(out: &mut Vec<u8>, s: &str, position: Position) {
    match position {
        Position::JsonValue => out.extend_from_slice(to_json(&Value::from(s)).as_bytes()),
        Position::JsonString | Position::Text => out.extend_from_slice(s.as_bytes()),
    }
}

/// Compact JSON, keys in the event's order.
fn to_json(v: &Value) -> String {
    // Serializing a Value cannot fail (its keys are strings).
    serde_json::to_string(v).unwrap_or_default()
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The start of a payload for an error message, cut at a character boundary.
fn quote_payload(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= QUOTED_PAYLOAD {
        return text.into_owned();
    }
    let cut: String = text.chars().take(QUOTED_PAYLOAD).collect();
    format!("{cut}... ({} bytes in all)", bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::InputTransformer;
    use crate::rules::parse::eventbridge_json_path;

    fn template(map: &[(&str, &str)], text: &str) -> Template {
        let input = TargetInput::Transformer(InputTransformer {
            input_paths_map: map
                .iter()
                .map(|(k, p)| (k.to_string(), eventbridge_json_path(p).unwrap()))
                .collect(),
            input_template: text.to_string(),
        });
        match CompiledInput::new(&input).kind {
            Kind::Template(t) => t,
            other => panic!("{other:?}"),
        }
    }

    /// Each slot as (source, in_string), and the literal text between them.
    fn layout(t: &Template) -> Vec<String> {
        t.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(text) => text.clone(),
                Segment::Slot { source, in_string } => format!("{source:?}/{in_string}"),
            })
            .collect()
    }

    #[test]
    fn slots_know_whether_they_stand_in_a_json_string() {
        let t = template(
            &[("v", "$.detail.v")],
            r#"{"a": "x \"<v>\" \\", "b": <v>, "c": ["<aws.events.rule-name>", <aws.events.event>]}"#,
        );
        assert!(t.json);
        assert_eq!(
            layout(&t),
            [
                r#"{"a": "x \""#,
                "Variable(0)/true",
                r#"\" \\", "b": "#,
                "Variable(0)/false",
                r#", "c": [""#,
                "RuleName/true",
                r#"", "#,
                "Event/false",
                "]}",
            ]
        );
        assert!(t.needs_parsed_event);
    }

    #[test]
    fn text_templates_have_no_string_positions() {
        let t = template(&[("v", "$.v")], "\"a <v>\" <v> \"<aws.events.event.json>\"");
        assert!(!t.json);
        assert_eq!(
            layout(&t),
            [
                "\"a ",
                "Variable(0)/false",
                "\" ",
                "Variable(0)/false",
                " \"",
                "EventJson/false",
                "\""
            ]
        );
        assert!(t.needs_parsed_event);
    }

    #[test]
    fn leading_blanks_before_a_brace_still_make_a_json_template() {
        assert!(template(&[], " \n {\"a\": 1}").json);
        assert!(template(&[], "[1]").json);
        assert!(!template(&[], "\"{\"").json);
    }

    #[test]
    fn predefined_strings_and_the_raw_event_need_no_parse() {
        let t = template(
            &[("unused", "$.detail")],
            r#"{"n": <aws.events.rule-name>, "a": <aws.events.rule-arn>, "t": <aws.events.event.ingestion-time>, "e": <aws.events.event.json>}"#,
        );
        assert!(!t.needs_parsed_event);
        let ctx = ShapeContext {
            rule_name: "r",
            rule_arn: "arn",
            ingestion_time: "2024-01-01T00:00:00Z",
        };
        let view = EventView::new(b"{\"a\" : 1}");
        let out = t.fill(&view, &ctx).unwrap();
        assert_eq!(
            out,
            br#"{"n": "r", "a": "arn", "t": "2024-01-01T00:00:00Z", "e": {"a" : 1}}"#
        );
        assert!(view.parsed.get().is_none(), "the event was parsed");
    }

    #[test]
    fn text_that_only_looks_like_a_placeholder_stays() {
        // Not placeholders: validation accepts these as text.
        let t = template(&[], "\"a < b > c <> <x y>\"");
        assert_eq!(layout(&t), ["\"a < b > c <> <x y>\""]);
    }

    #[test]
    fn long_payloads_are_cut_in_messages() {
        assert_eq!(quote_payload(b"{\"a\": 1"), "{\"a\": 1");
        let long = "é".repeat(300);
        let quoted = quote_payload(long.as_bytes());
        assert_eq!(quoted, format!("{}... (600 bytes in all)", "é".repeat(200)));
    }

    #[test]
    fn a_path_jsonpath_rust_refuses_selects_nothing() {
        let path = JsonPath {
            text: "$.a".into(),
            normalized: "$[".into(),
        };
        let input = CompiledInput::new(&TargetInput::Path(path));
        let e = input
            .shape(
                &EventView::new(b"{\"a\": 1}"),
                &ShapeContext {
                    rule_name: "r",
                    rule_arn: "arn",
                    ingestion_time: "t",
                },
            )
            .unwrap_err();
        assert_eq!(e.code, INPUT_PATH_NO_MATCH);
    }

    #[test]
    fn compiled_inputs_and_event_views_cross_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<CompiledInput>();
        shared::<EventView<'static>>();
        shared::<ShapeError>();
    }
}
