//! Reading one rule file: JSON text to validated [`Rule`]s, or to every problem the
//! file has, each with line, column and a message a person can act on.
//!
//! It owns the rule file format (CloudFormation `AWS::Events::Rule` property names
//! plus switchyard's destination and `Transform` extensions) and every check that
//! needs only the file itself and the plugins directory. Checks across files
//! (unique names, event buses that exist) are `directory`'s.

use std::path::{Path, PathBuf};

use crate::json::{self, Json, JsonValue, Member};
use crate::pattern::{Pattern, PatternError, PatternLimits};

use super::Problem;
use super::model::{
    Destination, InputTransformer, JsonPath, Position, RetryPolicy, Rule, RuleState, Target,
    TargetInput, Transform,
};

/// What a file's checks may look at outside the file.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Where `Transform.Plugin` names resolve: `<plugins_dir>/<name>.wasm`.
    pub plugins_dir: PathBuf,
}

/// The outcome of reading one file: the rules that are valid, and all problems.
/// A file with any problem is not loaded; `rules` still lets cross-file checks
/// report clashes of its valid rules.
#[derive(Debug, Default)]
pub struct ParsedFile {
    pub rules: Vec<Rule>,
    pub problems: Vec<Problem>,
}

/// Deepest nesting read in a rule file (patterns are limited further by the
/// pattern module).
const MAX_DEPTH: usize = 128;

/// EventBridge's limits that are validation rules of its API.
const MAX_NAME: usize = 64;
const MAX_DESCRIPTION: usize = 512;
const MAX_BUS_NAME: usize = 256;
const MAX_TARGETS: usize = 5;
const MAX_INPUT: usize = 8192;
const MAX_PATH: usize = 256;
const MAX_PATHS_MAP: usize = 100;
const RETRY_ATTEMPTS: (u64, u64) = (0, 185);
const EVENT_AGE: (u64, u64) = (60, 86_400);

const RULE_FIELDS: &[&str] = &[
    "Name",
    "Description",
    "EventBusName",
    "State",
    "EventPattern",
    "Targets",
];
const DESTINATIONS: &[&str] = &["Kafka", "Http", "File", "Stdout", "EventBus"];
const TARGET_FIELDS: &[&str] = &[
    "Id",
    "Kafka",
    "Http",
    "File",
    "Stdout",
    "EventBus",
    "Input",
    "InputPath",
    "InputTransformer",
    "Transform",
    "RetryPolicy",
    "DeadLetterConfig",
];
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

/// EventBridge properties switchyard does not take, with what to do instead.
const NOT_SUPPORTED: &[(&str, &str)] = &[
    (
        "ScheduleExpression",
        "scheduled rules are not supported: switchyard rules match events with EventPattern",
    ),
    ("RoleArn", "switchyard has no IAM roles: remove RoleArn"),
    (
        "Arn",
        "switchyard does not deliver to AWS resources: say where events go with one of Kafka, Http, File, Stdout or EventBus",
    ),
    (
        "HttpParameters",
        "put headers in \"Http\": {\"Endpoint\", \"Method\", \"Headers\"}",
    ),
];

/// Reads the rules of one file. `file` is only used to name the file in problems.
pub fn parse_file(file: &Path, text: &str, context: &ParseContext) -> ParsedFile {
    let mut reader = Reader {
        file,
        text,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        context,
        problems: Vec::new(),
    };
    let doc = match json::parse(text, MAX_DEPTH) {
        Ok(doc) => doc,
        Err(e) => {
            reader.problem_at(e.offset, "", format!("invalid JSON: {}", e.message));
            return reader.finish(Vec::new());
        }
    };
    let mut rules = Vec::new();
    match &doc.value {
        JsonValue::Object(_) => rules.extend(reader.rule(&doc, "")),
        JsonValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                rules.extend(reader.rule(item, &format!("[{i}]")));
            }
        }
        other => reader.problem(
            &doc,
            "",
            format!(
                "a rule file holds one rule object or an array of rule objects, found {}",
                other.type_name()
            ),
        ),
    }
    reader.finish(rules)
}

/// A validated object: the first occurrence of each allowed member.
struct Obj<'j> {
    json: &'j Json,
    members: Vec<&'j Member>,
}

impl<'j> Obj<'j> {
    fn member(&self, key: &str) -> Option<&'j Member> {
        self.members.iter().copied().find(|m| m.key == key)
    }

    fn get(&self, key: &str) -> Option<&'j Json> {
        self.member(key).map(|m| &m.value)
    }
}

struct Reader<'a> {
    file: &'a Path,
    text: &'a str,
    /// Byte offset where each line starts, to find line and column quickly (valid
    /// rules record positions too, so this is on the reload path).
    line_starts: Vec<usize>,
    context: &'a ParseContext,
    problems: Vec<Problem>,
}

fn join(location: &str, key: &str) -> String {
    if location.is_empty() {
        key.to_string()
    } else {
        format!("{location}.{key}")
    }
}

impl Reader<'_> {
    fn finish(self, rules: Vec<Rule>) -> ParsedFile {
        ParsedFile {
            rules,
            problems: self.problems,
        }
    }

    /// The same line and column as `json::line_col`, without rescanning the text.
    fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = String::from_utf8_lossy(&self.text.as_bytes()[start..offset])
            .chars()
            .count()
            + 1;
        Position { line, column }
    }

    fn problem_at(&mut self, offset: usize, location: &str, message: String) {
        let Position { line, column } = self.position(offset);
        let message = if location.is_empty() {
            message
        } else {
            format!("{location}: {message}")
        };
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            line,
            column,
            message,
        });
    }

    fn problem(&mut self, at: &Json, location: &str, message: String) {
        self.problem_at(at.span.start, location, message);
    }

    fn type_problem(&mut self, at: &Json, location: &str, expected: &str) {
        let found = at.value.type_name();
        self.problem(at, location, format!("expected {expected}, found {found}"));
    }

    /// Byte offset in the file of byte `decoded` of the string value `at`, taking
    /// escape sequences in the literal into account.
    fn string_offset(&self, at: &Json, decoded: usize) -> usize {
        let literal = &self.text[at.span.start..at.span.end];
        let mut raw = 1; // the opening quote
        let mut seen = 0;
        let bytes = literal.as_bytes();
        while seen < decoded && raw < bytes.len().saturating_sub(1) {
            if bytes[raw] != b'\\' {
                let ch = literal[raw..].chars().next().map_or(1, char::len_utf8);
                raw += ch;
                seen += ch;
                continue;
            }
            if bytes.get(raw + 1) != Some(&b'u') {
                raw += 2;
                seen += 1;
                continue;
            }
            let unit =
                u32::from_str_radix(literal.get(raw + 2..raw + 6).unwrap_or("0"), 16).unwrap_or(0);
            if (0xD800..0xDC00).contains(&unit) {
                raw += 12; // a surrogate pair: two escapes, one 4-byte character
                seen += 4;
            } else {
                raw += 6;
                seen += char::from_u32(unit).map_or(3, char::len_utf8);
            }
        }
        at.span.start + raw
    }

    /// Checks that `json` is an object in which no key is given twice.
    fn members<'j>(&mut self, json: &'j Json, location: &str) -> Option<Vec<&'j Member>> {
        let JsonValue::Object(all) = &json.value else {
            self.type_problem(json, location, "an object");
            return None;
        };
        let mut members: Vec<&Member> = Vec::new();
        for member in all {
            if let Some(first) = members.iter().find(|m| m.key == member.key) {
                let Position { line, column } = self.position(first.key_span.start);
                self.problem_at(
                    member.key_span.start,
                    &join(location, &member.key),
                    format!(
                        "duplicate field \"{}\" (first given at line {line}, column {column}): give each field once",
                        member.key
                    ),
                );
            } else {
                members.push(member);
            }
        }
        Some(members)
    }

    /// Checks that `json` is an object with only `allowed` keys, each once.
    fn object<'j>(&mut self, json: &'j Json, location: &str, allowed: &[&str]) -> Option<Obj<'j>> {
        let mut members = self.members(json, location)?;
        members.retain(|member| {
            let known = allowed.contains(&member.key.as_str());
            if !known {
                let message = unknown_field(&member.key, allowed);
                self.problem_at(member.key_span.start, &join(location, &member.key), message);
            }
            known
        });
        Some(Obj { json, members })
    }

    fn missing(&mut self, obj: &Obj, location: &str, key: &str) {
        self.problem(
            obj.json,
            location,
            format!("missing required field \"{key}\""),
        );
    }

    fn string<'j>(&mut self, json: &'j Json, location: &str) -> Option<&'j str> {
        match &json.value {
            JsonValue::String(s) => Some(s),
            _ => {
                self.type_problem(json, location, "a string");
                None
            }
        }
    }

    /// A string made only of `allowed` characters, 1 to `max` long.
    fn name<'j>(
        &mut self,
        json: &'j Json,
        location: &str,
        what: &str,
        max: usize,
        allowed: fn(char) -> bool,
        allowed_text: &str,
    ) -> Option<&'j str> {
        let s = self.string(json, location)?;
        if s.is_empty() || s.chars().count() > max || !s.chars().all(allowed) {
            self.problem(
                json,
                location,
                format!("\"{s}\" is not a valid {what}: use 1 to {max} {allowed_text}"),
            );
            return None;
        }
        Some(s)
    }

    fn rule_name<'j>(&mut self, json: &'j Json, location: &str, what: &str) -> Option<&'j str> {
        self.name(
            json,
            location,
            what,
            MAX_NAME,
            is_name_char,
            "letters, digits, '.', '-' or '_'",
        )
    }

    fn bus_name<'j>(&mut self, json: &'j Json, location: &str) -> Option<&'j str> {
        self.name(
            json,
            location,
            "event bus name",
            MAX_BUS_NAME,
            |c| is_name_char(c) || c == '/',
            "letters, digits, '.', '-', '_' or '/'",
        )
    }

    fn rule(&mut self, json: &Json, location: &str) -> Option<Rule> {
        let before = self.problems.len();
        let obj = self.object(json, location, RULE_FIELDS)?;

        let name = match obj.get("Name") {
            Some(v) => self.rule_name(v, &join(location, "Name"), "rule name"),
            None => {
                self.missing(&obj, location, "Name");
                None
            }
        };
        let description = obj.get("Description").and_then(|v| {
            let here = join(location, "Description");
            let s = self.string(v, &here)?;
            let count = s.chars().count();
            if count > MAX_DESCRIPTION {
                self.problem(
                    v,
                    &here,
                    format!("{count} characters is too long: use at most {MAX_DESCRIPTION}"),
                );
            }
            Some(s.to_string())
        });
        let bus = match obj.get("EventBusName") {
            Some(v) => self.bus_name(v, &join(location, "EventBusName")),
            None => Some("default"),
        };
        let state = match obj.get("State") {
            None => Some(RuleState::Enabled),
            Some(v) => {
                let here = join(location, "State");
                match self.string(v, &here) {
                    Some("ENABLED") => Some(RuleState::Enabled),
                    Some("DISABLED") => Some(RuleState::Disabled),
                    Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") => {
                        Some(RuleState::EnabledWithAllCloudtrailManagementEvents)
                    }
                    Some(other) => {
                        self.problem(
                            v,
                            &here,
                            format!("\"{other}\" is not a rule state: use ENABLED or DISABLED"),
                        );
                        None
                    }
                    None => None,
                }
            }
        };
        let pattern_text = obj.get("EventPattern").map(|v| match &v.value {
            JsonValue::String(text) => text.clone(),
            _ => json::compact_text(&self.text[v.span.start..v.span.end]),
        });
        let pattern = match obj.get("EventPattern") {
            Some(v) => self.event_pattern(v, &join(location, "EventPattern")),
            None => {
                self.missing(&obj, location, "EventPattern");
                None
            }
        };
        let targets = match obj.get("Targets") {
            Some(v) => self.targets(v, &join(location, "Targets"), bus.unwrap_or("default")),
            None => Vec::new(),
        };

        if self.problems.len() != before {
            return None;
        }
        let name_json = obj.get("Name")?;
        Some(Rule {
            name: name?.to_string(),
            description,
            event_bus_name: bus?.to_string(),
            state: state?,
            event_pattern: pattern?,
            event_pattern_text: pattern_text?,
            targets,
            file: self.file.to_path_buf(),
            at: self.position(name_json.span.start),
        })
    }

    /// `EventPattern`: an object (CloudFormation) or a string holding one (the
    /// EventBridge API).
    fn event_pattern(&mut self, json: &Json, location: &str) -> Option<Pattern> {
        let limits = PatternLimits::default();
        match &json.value {
            // The size limit applies to the compact form, not the file's indentation.
            JsonValue::Object(_) => Pattern::from_json(json, &limits)
                .map_err(|e| self.pattern_problem(&e, e.span.start, location))
                .ok(),
            JsonValue::String(text) => Pattern::parse_with(text, &limits)
                .map_err(|e| {
                    let offset = self.string_offset(json, e.span.start);
                    self.pattern_problem(&e, offset, location)
                })
                .ok(),
            _ => {
                self.type_problem(json, location, "an object (or a string holding one)");
                None
            }
        }
    }

    fn pattern_problem(&mut self, e: &PatternError, offset: usize, location: &str) {
        let here = if e.location.is_empty() {
            location.to_string()
        } else {
            join(location, &e.location)
        };
        self.problem_at(offset, &here, e.message.clone());
    }

    fn targets(&mut self, json: &Json, location: &str, bus: &str) -> Vec<Target> {
        let JsonValue::Array(items) = &json.value else {
            self.type_problem(json, location, "an array of targets");
            return Vec::new();
        };
        if items.len() > MAX_TARGETS {
            self.problem(
                &items[MAX_TARGETS],
                location,
                format!(
                    "{} targets is more than the limit of {MAX_TARGETS} per rule: split the rule",
                    items.len()
                ),
            );
        }
        let mut targets: Vec<Target> = Vec::new();
        let mut ids: Vec<(&str, usize)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let here = format!("{location}[{i}]");
            let id = self.target(item, &here, bus, &mut targets);
            if let Some((id, id_json)) = id {
                if let Some(&(_, first)) = ids.iter().find(|(seen, _)| *seen == id) {
                    let Position { line, column } = self.position(first);
                    self.problem(
                        id_json,
                        &join(&here, "Id"),
                        format!(
                            "duplicate target id \"{id}\" (first used at line {line}, column {column}): target ids must be unique within a rule"
                        ),
                    );
                } else {
                    ids.push((id, id_json.span.start));
                }
            }
        }
        targets
    }

    /// Reads one target into `out`; returns its id (when valid) for the duplicate check.
    fn target<'j>(
        &mut self,
        json: &'j Json,
        location: &str,
        bus: &str,
        out: &mut Vec<Target>,
    ) -> Option<(&'j str, &'j Json)> {
        let before = self.problems.len();
        let obj = self.object(json, location, TARGET_FIELDS)?;
        let id = match obj.get("Id") {
            Some(v) => self
                .rule_name(v, &join(location, "Id"), "target id")
                .map(|id| (id, v)),
            None => {
                self.missing(&obj, location, "Id");
                None
            }
        };
        let destination = self.destination(&obj, location, false);
        if let Some((Destination::EventBus { name }, _)) = &destination
            && name == bus
        {
            let at = obj.get("EventBus").unwrap_or(json);
            self.problem(
                at,
                &join(location, "EventBus"),
                format!(
                    "the rule listens on event bus \"{bus}\" and would send its events back to it, looping forever: choose another bus"
                ),
            );
        }
        let input = self.target_input(&obj, location);
        let transform = obj
            .get("Transform")
            .and_then(|v| self.transform(v, &join(location, "Transform")));
        let retry_policy = match obj.get("RetryPolicy") {
            Some(v) => self.retry_policy(v, &join(location, "RetryPolicy")),
            None => Some(RetryPolicy::default()),
        };
        let dead_letter = obj.get("DeadLetterConfig").map(|v| {
            let here = join(location, "DeadLetterConfig");
            self.object(v, &here, DESTINATIONS)
                .and_then(|o| self.destination(&o, &here, true))
        });

        if self.problems.len() == before
            && let (Some((id, _)), Some((destination, destination_at)), Some(input), Some(retry)) =
                (id, destination, input, retry_policy)
        {
            out.push(Target {
                id: id.to_string(),
                destination,
                destination_at,
                input,
                transform,
                retry_policy: retry,
                dead_letter: dead_letter.flatten().map(|(d, _)| d),
            });
        }
        id
    }

    /// Exactly one destination among the members of `obj`.
    fn destination(
        &mut self,
        obj: &Obj,
        location: &str,
        dead_letter: bool,
    ) -> Option<(Destination, Position)> {
        let given: Vec<&Member> = obj
            .members
            .iter()
            .copied()
            .filter(|m| DESTINATIONS.contains(&m.key.as_str()))
            .collect();
        let choices = if dead_letter {
            "Kafka, Http, File or Stdout"
        } else {
            "Kafka, Http, File, Stdout or EventBus"
        };
        let member = match given.as_slice() {
            [] => {
                self.problem(
                    obj.json,
                    location,
                    format!("missing destination: give exactly one of {choices}"),
                );
                return None;
            }
            [one] => *one,
            [first, second, ..] => {
                self.problem_at(
                    second.key_span.start,
                    &join(location, &second.key),
                    format!(
                        "give exactly one destination, but both {} and {} are given",
                        first.key, second.key
                    ),
                );
                return None;
            }
        };
        let here = join(location, &member.key);
        let json = &member.value;
        let at = self.position(json.span.start);
        let destination = match member.key.as_str() {
            "Kafka" => {
                let o = self.object(json, &here, &["Topic", "KeyPath"])?;
                let topic = match o.get("Topic") {
                    Some(v) => self.name(
                        v,
                        &join(&here, "Topic"),
                        "Kafka topic name",
                        249,
                        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'),
                        "letters, digits, '.', '_' or '-'",
                    ),
                    None => {
                        self.missing(&o, &here, "Topic");
                        None
                    }
                };
                let key_path = match o.get("KeyPath") {
                    Some(v) => Some(self.json_path(v, &join(&here, "KeyPath"))?),
                    None => None,
                };
                Destination::Kafka {
                    topic: topic?.to_string(),
                    key_path,
                }
            }
            "Http" => self.http(json, &here)?,
            "File" => {
                let o = self.object(json, &here, &["Path"])?;
                let Some(v) = o.get("Path") else {
                    self.missing(&o, &here, "Path");
                    return None;
                };
                let path = self.string(v, &join(&here, "Path"))?;
                if path.is_empty() || path.contains('\0') {
                    self.problem(
                        v,
                        &join(&here, "Path"),
                        "give a file path, such as \"out/orders.jsonl\"".into(),
                    );
                    return None;
                }
                Destination::File {
                    path: PathBuf::from(path),
                }
            }
            "Stdout" => {
                self.object(json, &here, &[])?;
                Destination::Stdout
            }
            _ => {
                if dead_letter {
                    self.problem_at(
                        member.key_span.start,
                        &here,
                        format!("an event bus cannot be a dead-letter destination: use {choices}"),
                    );
                    return None;
                }
                let o = self.object(json, &here, &["Name"])?;
                let Some(v) = o.get("Name") else {
                    self.missing(&o, &here, "Name");
                    return None;
                };
                let name = self.bus_name(v, &join(&here, "Name"))?;
                Destination::EventBus {
                    name: name.to_string(),
                }
            }
        };
        Some((destination, at))
    }

    fn http(&mut self, json: &Json, location: &str) -> Option<Destination> {
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

    /// `Input`, `InputPath` or `InputTransformer`: at most one.
    fn target_input(&mut self, obj: &Obj, location: &str) -> Option<TargetInput> {
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

    fn json_path(&mut self, json: &Json, location: &str) -> Option<JsonPath> {
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

    fn transform(&mut self, json: &Json, location: &str) -> Option<Transform> {
        let obj = self.object(json, location, &["Plugin", "Config"])?;
        let plugin = match obj.get("Plugin") {
            Some(v) => {
                let here = join(location, "Plugin");
                self.name(
                    v,
                    &here,
                    "plugin name",
                    MAX_NAME,
                    |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
                    "letters, digits, '_' or '-'",
                )
                .and_then(|name| {
                    let path = self.context.plugins_dir.join(format!("{name}.wasm"));
                    if path.is_file() {
                        Some((name, path))
                    } else {
                        self.problem(
                            v,
                            &here,
                            format!(
                                "plugin \"{name}\" does not exist: expected the file {}",
                                path.display()
                            ),
                        );
                        None
                    }
                })
            }
            None => {
                self.missing(&obj, location, "Plugin");
                None
            }
        };
        let config = match obj.get("Config") {
            None => Some("{}".to_string()),
            Some(
                v @ Json {
                    value: JsonValue::Object(_),
                    ..
                },
            ) => Some(v.to_string()),
            Some(v) => {
                self.type_problem(v, &join(location, "Config"), "an object");
                None
            }
        };
        let (plugin, plugin_path) = plugin?;
        Some(Transform {
            plugin: plugin.to_string(),
            plugin_path,
            config: config?,
        })
    }

    fn retry_policy(&mut self, json: &Json, location: &str) -> Option<RetryPolicy> {
        let obj = self.object(
            json,
            location,
            &["MaximumRetryAttempts", "MaximumEventAgeInSeconds"],
        )?;
        let mut policy = RetryPolicy::default();
        let mut ok = true;
        for (key, (low, high), field) in [
            (
                "MaximumRetryAttempts",
                RETRY_ATTEMPTS,
                &mut policy.maximum_retry_attempts,
            ),
            (
                "MaximumEventAgeInSeconds",
                EVENT_AGE,
                &mut policy.maximum_event_age_in_seconds,
            ),
        ] {
            let Some(v) = obj.get(key) else { continue };
            let here = join(location, key);
            let JsonValue::Number(n) = &v.value else {
                self.type_problem(v, &here, "a whole number");
                ok = false;
                continue;
            };
            match n.parse::<u64>() {
                Ok(x) if (low..=high).contains(&x) => *field = x as u32,
                Ok(_) => {
                    self.problem(
                        v,
                        &here,
                        format!("{n} is out of range: use {low} to {high}"),
                    );
                    ok = false;
                }
                Err(_) => {
                    self.problem(
                        v,
                        &here,
                        format!("{n} is not a whole number: use {low} to {high}"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(policy)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// The message for an unknown field: what to do instead, or a likely intended name.
fn unknown_field(key: &str, allowed: &[&str]) -> String {
    if let Some((_, advice)) = NOT_SUPPORTED.iter().find(|(k, _)| *k == key) {
        return format!("unknown field \"{key}\": {advice}");
    }
    let close = allowed
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key) || (key.len() > 3 && edit_distance(k, key) <= 2));
    match (close, allowed) {
        (Some(k), _) => format!("unknown field \"{key}\": did you mean \"{k}\"?"),
        (None, []) => format!("unknown field \"{key}\": this object takes no fields"),
        (None, _) => format!(
            "unknown field \"{key}\": expected one of {}",
            allowed.join(", ")
        ),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
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

/// A template that starts like JSON (`{` or `[`) must be JSON once its placeholders
/// are filled, and placeholders cannot be object keys (EventBridge's rules).
fn check_json_template(template: &str) -> Result<(), String> {
    if !template.trim_start().starts_with(['{', '[']) {
        return Ok(());
    }
    // Fill placeholders inside strings with a NUL escape (to spot keys later) and
    // outside strings with null.
    let spots = placeholders(template);
    let mut filled = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < template.len() {
        if let Some((_, name)) = spots.iter().find(|(at, _)| *at == i) {
            filled.push_str(if in_string { "\\u0000" } else { "null" });
            i += name.len() + 2;
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
        filled.push(c);
        i += c.len_utf8();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_agree_with_line_col() {
        let text = "{\n  \"Näme\": \"ü\",\r\n\n\t\"x\": [1,\n 2]}\n";
        let context = ParseContext {
            plugins_dir: PathBuf::new(),
        };
        let reader = Reader {
            file: Path::new("r.json"),
            text,
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
            context: &context,
            problems: Vec::new(),
        };
        for offset in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let (line, column) = json::line_col(text, offset);
            assert_eq!(
                reader.position(offset),
                Position { line, column },
                "{offset}"
            );
        }
    }
}
