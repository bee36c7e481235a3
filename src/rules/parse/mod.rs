//! Reading one rule file: JSON text to validated [`Rule`]s, or to every problem the
//! file has, each with line, column and a message a person can act on.
//!
//! It owns the rule file format (CloudFormation `AWS::Events::Rule` property names
//! plus switchyard's destination and `Transform` extensions) and every check that
//! needs only the file itself and the plugins directory. Checks across files
//! (unique names, event buses that exist) are `directory`'s.
//!
//! One [`Reader`] walks the file; its methods are split by what they read:
//! - this module: the reader's core (positions, problems, objects, strings, names)
//!   and the rule itself;
//! - `target`: targets, destinations, `Transform`, `RetryPolicy`, `DeadLetterConfig`;
//! - `http`: the `Http` destination, its `Auth` and rate limit;
//! - `input`: `Input`, `InputPath`, `InputTransformer`, templates and EventBridge's
//!   JSONPath dialect.

mod http;
mod input;
mod kafka;
mod target;
mod transform;

use std::path::{Path, PathBuf};

use crate::json::{self, Json, JsonValue, Member};
use crate::pattern::{Pattern, PatternError, PatternLimits};

use super::Problem;
use super::model::{Position, Rule, RuleState};

pub use input::{
    PREDEFINED_VARIABLES, TemplatePiece, eventbridge_json_path, placeholders, template_pieces,
};

/// What a file's checks may look at outside the file.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// Where `Transform.Plugin` names resolve: `<plugins_dir>/<name>.wasm`.
    pub plugins_dir: PathBuf,
    /// Limits on `EventPattern` (size, `$or` combinations, wildcard complexity).
    pub pattern_limits: PatternLimits,
    /// Judges `Transform`s; without one, a plugin file only has to exist.
    pub plugins: Option<super::PluginChecker>,
}

impl ParseContext {
    /// EventBridge's default pattern limits.
    pub fn new(plugins_dir: impl Into<PathBuf>) -> ParseContext {
        ParseContext {
            plugins_dir: plugins_dir.into(),
            pattern_limits: PatternLimits::default(),
            plugins: None,
        }
    }
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

const RULE_FIELDS: &[&str] = &[
    "Name",
    "Description",
    "EventBusName",
    "State",
    "EventPattern",
    "Targets",
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
        self.object_with_advice(json, location, allowed, &[])
    }

    /// Like `object`, with what to do instead for some unknown fields.
    fn object_with_advice<'j>(
        &mut self,
        json: &'j Json,
        location: &str,
        allowed: &[&str],
        advice: &[(&str, &str)],
    ) -> Option<Obj<'j>> {
        let mut members = self.members(json, location)?;
        members.retain(|member| {
            let known = allowed.contains(&member.key.as_str());
            if !known {
                let message = unknown_field(&member.key, allowed, advice);
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
            Some(v) => self.targets(
                v,
                &join(location, "Targets"),
                bus.unwrap_or("default"),
                name,
            ),
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
        let limits = self.context.pattern_limits;
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
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// The message for an unknown field: what to do instead, or a likely intended name.
fn unknown_field(key: &str, allowed: &[&str], advice: &[(&str, &str)]) -> String {
    if let Some((_, advice)) = advice.iter().chain(NOT_SUPPORTED).find(|(k, _)| *k == key) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_agree_with_line_col() {
        let text = "{\n  \"Näme\": \"ü\",\r\n\n\t\"x\": [1,\n 2]}\n";
        let context = ParseContext::new(PathBuf::new());
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
