//! Reading and validating event patterns: JSON in, [`Conjunction`] out, or a
//! [`PatternError`] that names the JSON location of the problem and what is wrong.
//!
//! The rules are EventBridge's (as implemented by aws/event-ruler): a pattern is a
//! non-empty object; a field's value is a nested object or a non-empty array of
//! match values; a match value is a string, number, boolean, null or an operator
//! object with exactly one known operator. This module only validates and builds
//! the model; it does not match.

use std::fmt;

use super::ip::Cidr;
use super::model::{
    AnyOf, AnythingBut, Bound, Conjunction, FieldTest, Literal, Range, ValueTest,
};
use super::number::{self, Number};
use super::text::Wildcard;
use crate::json::{self, Json, JsonValue, Member, Span};

/// Limits on patterns, with EventBridge's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternLimits {
    /// Largest pattern text in bytes (EventBridge: 2048 characters by default,
    /// raisable to 4096).
    pub max_bytes: usize,
    /// Most combinations that `$or` groups may expand to (EventBridge: 1000).
    pub max_or_combinations: usize,
    /// Deepest nesting of objects and arrays in the pattern.
    pub max_depth: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        PatternLimits {
            max_bytes: 2048,
            max_or_combinations: 1000,
            max_depth: 32,
        }
    }
}

/// An invalid pattern: where (JSON location and source span) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// JSON location such as `detail.state[0]`; empty for the pattern as a whole.
    pub location: String,
    /// Byte span in the text the pattern was read from.
    pub span: Span,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

impl std::error::Error for PatternError {}

/// The operators EventBridge knows. Inside `$or` these are not field names.
const OPERATORS: &[&str] = &[
    "prefix",
    "suffix",
    "equals-ignore-case",
    "wildcard",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
];

/// Reads pattern text and validates it.
pub fn compile_text(text: &str, limits: &PatternLimits) -> Result<Conjunction, PatternError> {
    if text.len() > limits.max_bytes {
        return Err(PatternError {
            location: String::new(),
            span: Span {
                start: 0,
                end: text.len(),
            },
            message: format!(
                "pattern is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        });
    }
    let doc = json::parse(text, limits.max_depth).map_err(|e| PatternError {
        location: String::new(),
        span: Span {
            start: e.offset,
            end: e.offset,
        },
        message: format!("pattern is not valid JSON: {e}"),
    })?;
    compile_json(&doc, limits)
}

/// Validates a pattern already read as JSON (for example from a rule file, so that
/// error spans point into that file).
pub fn compile_json(doc: &Json, limits: &PatternLimits) -> Result<Conjunction, PatternError> {
    let size = doc.span.end - doc.span.start;
    if size > limits.max_bytes {
        return Err(error(
            "",
            doc,
            format!(
                "pattern is {size} bytes, more than the limit of {} bytes",
                limits.max_bytes
            ),
        ));
    }
    let JsonValue::Object(members) = &doc.value else {
        return Err(error(
            "",
            doc,
            format!(
                "a pattern must be a JSON object, found {}",
                doc.value.type_name()
            ),
        ));
    };
    let compiler = Compiler { limits };
    let root = compiler.object(members, doc, "", "", 1)?;
    let combinations = combinations(&root);
    if combinations > limits.max_or_combinations {
        return Err(error(
            "",
            doc,
            format!(
                "the $or groups expand to {combinations} combinations, more than the limit of {}",
                limits.max_or_combinations
            ),
        ));
    }
    Ok(root)
}

/// How many plain conjunctions the `$or` groups expand to (saturating).
pub fn combinations(c: &Conjunction) -> usize {
    c.any_of.iter().fold(1usize, |acc, group| {
        let branches = group
            .branches
            .iter()
            .fold(0usize, |sum, b| sum.saturating_add(combinations(b)));
        acc.saturating_mul(branches)
    })
}

fn error(location: &str, at: &Json, message: impl Into<String>) -> PatternError {
    PatternError {
        location: location.to_string(),
        span: at.span,
        message: message.into(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

struct Compiler<'a> {
    limits: &'a PatternLimits,
}

impl Compiler<'_> {
    /// A pattern object at field path `path`, standing at `location`.
    fn object(
        &self,
        members: &[Member],
        at: &Json,
        path: &str,
        location: &str,
        depth: usize,
    ) -> Result<Conjunction, PatternError> {
        if depth > self.limits.max_depth {
            return Err(error(
                location,
                at,
                format!(
                    "pattern nesting is deeper than the limit of {} levels",
                    self.limits.max_depth
                ),
            ));
        }
        if members.is_empty() {
            return Err(error(
                location,
                at,
                "an empty object matches nothing: name at least one field",
            ));
        }
        let mut out = Conjunction::default();
        for (i, member) in members.iter().enumerate() {
            if members[..i].iter().any(|m| m.key == member.key) {
                return Err(error(
                    &join(location, &member.key),
                    &member.value,
                    format!("field \"{}\" appears twice in the same object", member.key),
                ));
            }
            let field_location = join(location, &member.key);
            if member.key == "$or" {
                out.any_of
                    .push(self.any_of(&member.value, path, &field_location, depth)?);
                continue;
            }
            let field_path = join(path, &member.key);
            match &member.value.value {
                JsonValue::Object(inner) => {
                    let nested =
                        self.object(inner, &member.value, &field_path, &field_location, depth + 1)?;
                    out.fields.extend(nested.fields);
                    out.any_of.extend(nested.any_of);
                }
                JsonValue::Array(items) => {
                    out.fields
                        .push(self.field(items, &member.value, field_path, field_location)?);
                }
                other => {
                    return Err(error(
                        &field_location,
                        &member.value,
                        format!(
                            "a field must be an array of match values (e.g. [\"value\"]) or an object of fields, found {}",
                            other.type_name()
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn any_of(
        &self,
        value: &Json,
        path: &str,
        location: &str,
        depth: usize,
    ) -> Result<AnyOf, PatternError> {
        let JsonValue::Array(items) = &value.value else {
            return Err(error(
                location,
                value,
                format!(
                    "$or must be an array of at least two pattern objects, found {}",
                    value.value.type_name()
                ),
            ));
        };
        if items.len() < 2 {
            return Err(error(
                location,
                value,
                format!(
                    "$or must be an array of at least two pattern objects, found {} element{}",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        let mut branches = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let branch_location = format!("{location}[{i}]");
            let JsonValue::Object(members) = &item.value else {
                return Err(error(
                    &branch_location,
                    item,
                    format!(
                        "each $or branch must be a pattern object, found {}",
                        item.value.type_name()
                    ),
                ));
            };
            if let Some(m) = members.iter().find(|m| OPERATORS.contains(&m.key.as_str())) {
                return Err(error(
                    &join(&branch_location, &m.key),
                    &m.value,
                    format!(
                        "\"{}\" is an operator and cannot be a field name in a $or branch; operators go inside a field's array, e.g. {{\"field\": [{{\"{}\": ...}}]}}",
                        m.key, m.key
                    ),
                ));
            }
            branches.push(self.object(members, item, path, &branch_location, depth + 1)?);
        }
        Ok(AnyOf {
            location: location.to_string(),
            branches,
        })
    }

    fn field(
        &self,
        items: &[Json],
        at: &Json,
        path: String,
        location: String,
    ) -> Result<FieldTest, PatternError> {
        if items.is_empty() {
            return Err(error(
                &location,
                at,
                "an empty array matches nothing: give at least one value",
            ));
        }
        let tests = items
            .iter()
            .enumerate()
            .map(|(i, item)| value_test(item, &format!("{location}[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok(FieldTest {
            path,
            source: at.to_string(),
            location,
            tests,
        })
    }
}

/// One entry of a field's values array.
fn value_test(item: &Json, location: &str) -> Result<ValueTest, PatternError> {
    Ok(match &item.value {
        JsonValue::String(s) => ValueTest::Exact(Literal::String(s.clone())),
        JsonValue::Number(n) => ValueTest::Exact(Literal::Number(Number::new(n))),
        JsonValue::Bool(b) => ValueTest::Exact(Literal::Bool(*b)),
        JsonValue::Null => ValueTest::Exact(Literal::Null),
        JsonValue::Array(_) => {
            return Err(error(
                location,
                item,
                "arrays inside a values array are not allowed; list the values directly",
            ));
        }
        JsonValue::Object(members) => operator(members, item, location)?,
    })
}

fn operator(members: &[Member], item: &Json, location: &str) -> Result<ValueTest, PatternError> {
    let [member] = members else {
        return Err(error(
            location,
            item,
            if members.is_empty() {
                "an operator object needs exactly one operator, found none".to_string()
            } else {
                format!(
                    "an operator object needs exactly one operator, found {}: {}",
                    members.len(),
                    members
                        .iter()
                        .map(|m| format!("\"{}\"", m.key))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        ));
    };
    let value = &member.value;
    let fail = |message: String| error(location, value, message);
    match member.key.as_str() {
        "prefix" | "suffix" => {
            let (text, ignore_case) = match &value.value {
                JsonValue::String(s) => (s.clone(), false),
                JsonValue::Object(inner) => match inner.as_slice() {
                    [m] if m.key == "equals-ignore-case" => match &m.value.value {
                        JsonValue::String(s) => (s.clone(), true),
                        other => {
                            return Err(fail(format!(
                                "\"{}\" with \"equals-ignore-case\" needs a string, found {}",
                                member.key,
                                other.type_name()
                            )));
                        }
                    },
                    _ => {
                        return Err(fail(format!(
                            "\"{}\" takes a string or {{\"equals-ignore-case\": string}}, found {value}",
                            member.key
                        )));
                    }
                },
                other => {
                    return Err(fail(format!(
                        "\"{}\" takes a string or {{\"equals-ignore-case\": string}}, found {}",
                        member.key,
                        other.type_name()
                    )));
                }
            };
            Ok(if member.key == "prefix" {
                ValueTest::Prefix { text, ignore_case }
            } else {
                ValueTest::Suffix { text, ignore_case }
            })
        }
        "equals-ignore-case" => match &value.value {
            JsonValue::String(s) => Ok(ValueTest::EqualsIgnoreCase(s.clone())),
            other => Err(fail(format!(
                "\"equals-ignore-case\" takes a string, found {}",
                other.type_name()
            )))
        },
        "wildcard" => match &value.value {
            JsonValue::String(s) => wildcard(s)
                .map(ValueTest::Wildcard)
                .map_err(fail),
            other => Err(fail(format!(
                "\"wildcard\" takes a string, found {}",
                other.type_name()
            )))
        },
        "anything-but" => anything_but(value, location).map(ValueTest::AnythingBut),
        "numeric" => numeric(value, location).map(ValueTest::Numeric),
        "exists" => match &value.value {
            JsonValue::Bool(b) => Ok(ValueTest::Exists(*b)),
            other => Err(fail(format!(
                "\"exists\" takes true or false, found {}{}",
                other.type_name(),
                if matches!(other, JsonValue::String(_)) {
                    format!(" {value} (write it without quotes)")
                } else {
                    String::new()
                }
            )))
        },
        "cidr" => match &value.value {
            JsonValue::String(s) => Cidr::parse(s).map(ValueTest::Cidr).map_err(fail),
            other => Err(fail(format!(
                "\"cidr\" takes a string such as \"10.0.0.0/24\", found {}",
                other.type_name()
            )))
        },
        unknown => {
            let hint = OPERATORS
                .iter()
                .find(|op| op.eq_ignore_ascii_case(unknown) || op.replace('-', "") == unknown)
                .map(|op| format!(" (did you mean \"{op}\"?)"))
                .unwrap_or_default();
            Err(error(
                location,
                item,
                format!(
                    "unknown operator \"{unknown}\"{hint}; operators are {}",
                    OPERATORS.join(", ")
                ),
            ))
        }
    }
}

fn wildcard(s: &str) -> Result<Wildcard, String> {
    Wildcard::parse(s).map_err(|e| format!("invalid \"wildcard\" pattern \"{s}\": {e}"))
}

/// A number usable for comparisons, or an error naming it.
fn comparable(n: &str, operator: &str) -> Result<f64, String> {
    number::round_trip(n).ok_or_else(|| {
        format!(
            "{n} cannot be used with \"{operator}\": it is outside the double range or is not exactly representable as a double"
        )
    })
}

fn anything_but(value: &Json, location: &str) -> Result<AnythingBut, PatternError> {
    let fail = |message: String| error(location, value, message);
    match &value.value {
        JsonValue::String(s) => Ok(AnythingBut::Literals(vec![Literal::String(s.clone())])),
        JsonValue::Number(n) => match comparable(n, "anything-but") {
            Ok(_) => Ok(AnythingBut::Literals(vec![Literal::Number(Number::new(n))])),
            Err(m) => Err(fail(m)),
        },
        JsonValue::Array(items) => {
            if items.is_empty() {
                return Err(fail("\"anything-but\" needs at least one value".to_string()));
            }
            let strings = items.iter().all(|i| matches!(i.value, JsonValue::String(_)));
            let numbers = items.iter().all(|i| matches!(i.value, JsonValue::Number(_)));
            if !strings && !numbers {
                return Err(fail(format!(
                    "\"anything-but\" takes a list of only strings or only numbers, found {value}"
                )));
            }
            let mut literals = Vec::with_capacity(items.len());
            for item in items {
                literals.push(match &item.value {
                    JsonValue::String(s) => Literal::String(s.clone()),
                    JsonValue::Number(n) => {
                        comparable(n, "anything-but").map_err(fail)?;
                        Literal::Number(Number::new(n))
                    }
                    _ => unreachable!("checked above"),
                });
            }
            Ok(AnythingBut::Literals(literals))
        }
        JsonValue::Object(members) => {
            let [member] = members.as_slice() else {
                return Err(fail(format!(
                    "\"anything-but\" takes one of prefix, suffix, equals-ignore-case or wildcard, found {value}"
                )));
            };
            let op = member.key.as_str();
            if !matches!(op, "prefix" | "suffix" | "equals-ignore-case" | "wildcard") {
                return Err(fail(format!(
                    "\"anything-but\" cannot be combined with \"{op}\": use prefix, suffix, equals-ignore-case or wildcard"
                )));
            }
            let strings: Vec<String> = match &member.value.value {
                JsonValue::String(s) => vec![s.clone()],
                JsonValue::Array(items) if !items.is_empty() => items
                    .iter()
                    .map(|i| match &i.value {
                        JsonValue::String(s) => Ok(s.clone()),
                        other => Err(format!(
                            "\"anything-but\" with \"{op}\" takes strings, found {}",
                            other.type_name()
                        )),
                    })
                    .collect::<Result<_, _>>()
                    .map_err(fail)?,
                other => {
                    return Err(fail(format!(
                        "\"anything-but\" with \"{op}\" takes a string or a non-empty list of strings, found {}",
                        other.type_name()
                    )));
                }
            };
            if matches!(op, "prefix" | "suffix") && strings.iter().any(String::is_empty) {
                return Err(fail(format!(
                    "\"anything-but\" with \"{op}\" cannot be empty: it would exclude every string"
                )));
            }
            Ok(match op {
                "prefix" => AnythingBut::Prefix(strings),
                "suffix" => AnythingBut::Suffix(strings),
                "equals-ignore-case" => AnythingBut::EqualsIgnoreCase(strings),
                _ => AnythingBut::Wildcard(
                    strings
                        .iter()
                        .map(|s| wildcard(s))
                        .collect::<Result<_, _>>()
                        .map_err(fail)?,
                ),
            })
        }
        other => Err(fail(format!(
            "\"anything-but\" takes a string, a number, a list of strings or numbers, or an object with prefix, suffix, equals-ignore-case or wildcard; found {}",
            other.type_name()
        )))
    }
}

fn numeric(value: &Json, location: &str) -> Result<Range, PatternError> {
    let fail = |message: String| error(location, value, message);
    let JsonValue::Array(items) = &value.value else {
        return Err(fail(format!(
            "\"numeric\" takes an array such as [\">\", 0, \"<=\", 5], found {}",
            value.value.type_name()
        )));
    };
    let mut pairs = Vec::new();
    for chunk in items.chunks(2) {
        let op = match &chunk[0].value {
            JsonValue::String(op) if matches!(op.as_str(), "=" | "<" | "<=" | ">" | ">=") => {
                op.as_str()
            }
            JsonValue::String(op) => {
                return Err(fail(format!(
                    "\"numeric\" has unknown comparison \"{op}\"; use =, <, <=, > or >="
                )));
            }
            other => {
                return Err(fail(format!(
                    "\"numeric\" expects a comparison (=, <, <=, >, >=) then a number, found {} where the comparison should be",
                    other.type_name()
                )));
            }
        };
        let Some(JsonValue::Number(n)) = chunk.get(1).map(|j| &j.value) else {
            return Err(fail(format!("\"numeric\" comparison \"{op}\" must be followed by a number")));
        };
        pairs.push((op, comparable(n, "numeric").map_err(fail)?));
    }
    let bound = |x: f64, inclusive| Some(Bound { value: x, inclusive });
    let range = match pairs.as_slice() {
        [] => return Err(fail("\"numeric\" needs at least one comparison".to_string())),
        [("=", x)] => Range {
            lower: bound(*x, true),
            upper: bound(*x, true),
        },
        [(op @ (">" | ">="), x)] => Range {
            lower: bound(*x, *op == ">="),
            upper: None,
        },
        [(op @ ("<" | "<="), x)] => Range {
            lower: None,
            upper: bound(*x, *op == "<="),
        },
        [(lo @ (">" | ">="), a), (hi @ ("<" | "<="), b)] => {
            if a >= b {
                return Err(fail(format!(
                    "\"numeric\" range is empty: the lower bound {a} must be less than the upper bound {b}"
                )));
            }
            Range {
                lower: bound(*a, *lo == ">="),
                upper: bound(*b, *hi == "<="),
            }
        }
        [("=", _), ..] => {
            return Err(fail("\"numeric\" \"=\" must stand alone: [\"=\", number]".to_string()));
        }
        [_, _] => {
            return Err(fail(
                "\"numeric\" range must give the lower bound (> or >=) first, then the upper bound (< or <=)"
                    .to_string(),
            ));
        }
        _ => {
            return Err(fail(
                "\"numeric\" takes at most two comparisons: a lower bound and an upper bound"
                    .to_string(),
            ));
        }
    };
    Ok(range)
}
