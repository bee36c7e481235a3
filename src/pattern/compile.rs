//! Reading and validating event patterns: JSON in, [`Conjunction`] out, or a
//! [`PatternError`] that names the JSON location of the problem and what is wrong.
//!
//! The rules are EventBridge's (as implemented by aws/event-ruler): a pattern is a
//! non-empty object; a field's value is a nested object or a non-empty array of
//! match values; a match value is a string, number, boolean, null or an operator
//! object with exactly one known operator. This module only validates and builds
//! the model; it does not match.

use std::cell::Cell;
use std::fmt;

use super::complexity;
use super::ip::{Cidr, parse_ip};
use super::model::{AnyOf, AnythingBut, Bound, Conjunction, FieldTest, Literal, Range, ValueTest};
use super::number::{self, Number};
use super::text::{CaseInsensitive, Wildcard};
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
    /// Highest wildcard complexity of one field (see `complexity`): the most
    /// wildcard prefixes one input can leave active, over all the field's
    /// `wildcard` and `anything-but` `wildcard` tests in the pattern. EventBridge
    /// rejects more than 10 with "Rule is too complex" (judging each pattern on
    /// its own); see README.md for how the limit was found.
    pub max_wildcard_complexity: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        PatternLimits {
            max_bytes: 2048,
            max_or_combinations: 1000,
            max_depth: 32,
            max_wildcard_complexity: 10,
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

/// The operators EventBridge knows.
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

/// Names event-ruler reserves inside `$or` branches (at any depth): its operators,
/// including ones EventBridge does not offer.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "html",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
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
    // Values arrays and operators add up to three levels below the deepest field
    // object; the field depth itself is checked (with a better message) below.
    let doc = json::parse(text, limits.max_depth + 3).map_err(|e| PatternError {
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
    // EventBridge measures the pattern as it stores it: compact, so indentation in
    // a rule file does not count.
    let size = doc.compact_len();
    if size > limits.max_bytes {
        return Err(error(
            "",
            doc,
            format!(
                "the pattern is {size} bytes written compactly, more than the limit of {} bytes",
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
    let strict = Compiler {
        limits,
        legacy: false,
        next_order: Cell::new(0),
    };
    let root = match strict.object(members, doc, "", "", 1) {
        Ok(root) => root,
        // event-ruler retries a pattern its compiler rejects with its older
        // compiler, which knows no `$or` and reads it as a field name. EventBridge
        // therefore accepts, say, {"$or": ["a", "b"]} as a field called "$or".
        // When both fail, the modern error is the helpful one.
        Err(e) if mentions_or(doc) => {
            let legacy = Compiler {
                limits,
                legacy: true,
                next_order: Cell::new(0),
            };
            legacy.object(members, doc, "", "", 1).map_err(|_| e)?
        }
        Err(e) => return Err(e),
    };
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
    check_wildcard_complexity(&root, limits)?;
    Ok(root)
}

/// EventBridge's wording when wildcards are too complex.
const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

/// Rejects a pattern whose wildcards on one field are too complex, as
/// EventBridge does when a rule is created. Only tests that take part in some
/// `$or` combination count (one overridden by a later test does not), each
/// once; the error points at the field's first wildcard test.
fn check_wildcard_complexity(
    root: &Conjunction,
    limits: &PatternLimits,
) -> Result<(), PatternError> {
    fn has_wildcard(test: &FieldTest) -> bool {
        test.tests.iter().any(|t| {
            matches!(
                t,
                ValueTest::Wildcard(_) | ValueTest::AnythingBut(AnythingBut::Wildcard(_))
            )
        })
    }
    fn any_wildcard(c: &Conjunction) -> bool {
        c.fields.iter().any(has_wildcard)
            || c.any_of.iter().any(|g| g.branches.iter().any(any_wildcard))
    }
    // Most patterns have no wildcard: skip expanding their $or groups.
    if !any_wildcard(root) {
        return Ok(());
    }
    // event-ruler keeps one byte machine per field for each sequence of tests
    // before it (sub-rules walk their fields in sorted path order and share the
    // walk while their tests agree), and the complexity is that of the worst
    // machine: so wildcards add up per (tests before, field).
    type Machine<'c> = (Vec<(&'c str, &'c str)>, &'c str);
    let mut machines: Vec<(Machine<'_>, Vec<&FieldTest>)> = Vec::new();
    for clauses in super::reference::expand(root) {
        for (i, test) in clauses.iter().enumerate() {
            if !has_wildcard(test) {
                continue;
            }
            let before = clauses[..i]
                .iter()
                .map(|t| (t.path.as_str(), t.source.as_str()))
                .collect();
            let key = (before, test.path.as_str());
            match machines.iter_mut().find(|(k, _)| *k == key) {
                Some((_, tests)) => {
                    if !tests.iter().any(|t| std::ptr::eq(*t, *test)) {
                        tests.push(test);
                    }
                }
                None => machines.push((key, vec![test])),
            }
        }
    }
    for (_, mut tests) in machines {
        tests.sort_by_key(|t| t.order);
        // One group per wildcard object; identical ones count once.
        let mut groups: Vec<Vec<&Wildcard>> = Vec::new();
        for test in &tests {
            for t in &test.tests {
                let group: Vec<&Wildcard> = match t {
                    ValueTest::Wildcard(w) => vec![w],
                    ValueTest::AnythingBut(AnythingBut::Wildcard(list)) => list.iter().collect(),
                    _ => continue,
                };
                if !group.is_empty() && !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
        let score = complexity::complexity(&groups, limits.max_wildcard_complexity);
        if score > limits.max_wildcard_complexity {
            let first = tests[0];
            return Err(PatternError {
                location: first.location.clone(),
                span: first.span,
                message: format!(
                    "{TOO_COMPLEX} (wildcard complexity is more than the limit of {})",
                    limits.max_wildcard_complexity
                ),
            });
        }
    }
    Ok(())
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

/// Whether any object in the document has a `$or` key.
fn mentions_or(doc: &Json) -> bool {
    match &doc.value {
        JsonValue::Object(members) => members
            .iter()
            .any(|m| m.key == "$or" || mentions_or(&m.value)),
        JsonValue::Array(items) => items.iter().any(mentions_or),
        _ => false,
    }
}

/// The first key reserved inside `$or`, searching nested pattern objects too.
fn reserved_key<'j>(members: &'j [Member], location: &str) -> Option<(String, &'j Member)> {
    members.iter().find_map(|m| {
        let here = join(location, &m.key);
        if RESERVED_IN_OR.contains(&m.key.as_str()) {
            return Some((here, m));
        }
        match &m.value.value {
            JsonValue::Object(inner) => reserved_key(inner, &here),
            _ => None,
        }
    })
}

/// Adds a field test; a later test of the same path replaces an earlier one, as
/// event-ruler does with repeated keys.
fn push_field(fields: &mut Vec<FieldTest>, field: FieldTest) {
    fields.retain(|f| f.path != field.path);
    fields.push(field);
}

struct Compiler<'a> {
    limits: &'a PatternLimits,
    /// Read `$or` as a plain field name (event-ruler's older compiler).
    legacy: bool,
    /// Field tests read so far: the next one's [`FieldTest::order`].
    next_order: Cell<u32>,
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
        for member in members {
            let field_location = join(location, &member.key);
            if member.key == "$or" && !self.legacy {
                out.any_of
                    .push(self.any_of(&member.value, path, &field_location, depth)?);
                continue;
            }
            let field_path = join(path, &member.key);
            match &member.value.value {
                JsonValue::Object(inner) => {
                    let nested = self.object(
                        inner,
                        &member.value,
                        &field_path,
                        &field_location,
                        depth + 1,
                    )?;
                    for field in nested.fields {
                        push_field(&mut out.fields, field);
                    }
                    out.any_of.extend(nested.any_of);
                }
                JsonValue::Array(items) => {
                    let field = self.field(items, &member.value, field_path, field_location)?;
                    push_field(&mut out.fields, field);
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
            if let Some((key_location, m)) = reserved_key(members, &branch_location) {
                return Err(error(
                    &key_location,
                    &m.value,
                    format!(
                        "\"{}\" is a reserved operator name and cannot be a field name inside $or; operators go inside a field's array, e.g. {{\"field\": [{{\"prefix\": \"a\"}}]}}",
                        m.key
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
        let order = self.next_order.get();
        self.next_order.set(order + 1);
        Ok(FieldTest {
            path,
            source: at.to_string(),
            span: at.span,
            location,
            tests,
            order,
        })
    }
}

/// One entry of a field's values array.
fn value_test(item: &Json, location: &str) -> Result<ValueTest, PatternError> {
    Ok(match &item.value {
        JsonValue::String(s) => ValueTest::Exact(match parse_ip(s) {
            Some(ip) => Literal::Address(ip),
            None => Literal::String(s.clone()),
        }),
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
            Ok(match (member.key == "prefix", ignore_case) {
                (true, false) => ValueTest::Prefix(text),
                (true, true) => ValueTest::PrefixIgnoreCase(CaseInsensitive::new(&text)),
                (false, false) => ValueTest::Suffix(text),
                (false, true) => ValueTest::SuffixIgnoreCase(CaseInsensitive::new(&text)),
            })
        }
        "equals-ignore-case" => match &value.value {
            JsonValue::String(s) => Ok(ValueTest::EqualsIgnoreCase(CaseInsensitive::new(s))),
            other => Err(fail(format!(
                "\"equals-ignore-case\" takes a string, found {}",
                other.type_name()
            ))),
        },
        "wildcard" => match &value.value {
            JsonValue::String(s) => wildcard(s).map(ValueTest::Wildcard).map_err(fail),
            other => Err(fail(format!(
                "\"wildcard\" takes a string, found {}",
                other.type_name()
            ))),
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
            ))),
        },
        "cidr" => match &value.value {
            JsonValue::String(s) => Cidr::parse(s).map(ValueTest::Cidr).map_err(fail),
            other => Err(fail(format!(
                "\"cidr\" takes a string such as \"10.0.0.0/24\", found {}",
                other.type_name()
            ))),
        },
        "$or" => Err(error(
            location,
            item,
            "$or cannot stand inside a field's array; put it in the pattern object: {\"$or\": [{...}, {...}]}",
        )),
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
                return Err(fail(
                    "\"anything-but\" needs at least one value".to_string(),
                ));
            }
            let strings = items
                .iter()
                .all(|i| matches!(i.value, JsonValue::String(_)));
            let numbers = items
                .iter()
                .all(|i| matches!(i.value, JsonValue::Number(_)));
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
                // An empty list excludes nothing; event-ruler accepts it.
                JsonValue::Array(items) => items
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
                        "\"anything-but\" with \"{op}\" takes a string or a list of strings, found {}",
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
                "equals-ignore-case" => AnythingBut::EqualsIgnoreCase(
                    strings.iter().map(|s| CaseInsensitive::new(s)).collect(),
                ),
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
        ))),
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
            return Err(fail(format!(
                "\"numeric\" comparison \"{op}\" must be followed by a number"
            )));
        };
        pairs.push((op, comparable(n, "numeric").map_err(fail)?));
    }
    let bound = |x: f64, inclusive| {
        Some(Bound {
            value: x,
            inclusive,
        })
    };
    let range = match pairs.as_slice() {
        [] => {
            return Err(fail(
                "\"numeric\" needs at least one comparison".to_string(),
            ));
        }
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
            return Err(fail(
                "\"numeric\" \"=\" must stand alone: [\"=\", number]".to_string(),
            ));
        }
        [("<" | "<=", _), _] => {
            return Err(fail(
                "\"numeric\" range must give the lower bound (> or >=) first, then the upper bound (< or <=)"
                    .to_string(),
            ));
        }
        [_, (op, _)] => {
            return Err(fail(format!(
                "\"numeric\" range needs an upper bound (< or <=) after the lower bound, found \"{op}\""
            )));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(pattern: &str) -> String {
        compile_text(pattern, &PatternLimits::default())
            .expect_err(pattern)
            .to_string()
    }

    /// Every way a user can write an invalid pattern, with the message they get.
    #[test]
    fn every_validation_error_names_the_location_and_the_problem() {
        let cases = [
            (
                r#"[{"source": ["a"]}]"#,
                r#"a pattern must be a JSON object, found array"#,
            ),
            (
                r#"{}"#,
                r#"an empty object matches nothing: name at least one field"#,
            ),
            (
                r#"{"source": "aws.ec2"}"#,
                r#"source: a field must be an array of match values (e.g. ["value"]) or an object of fields, found string"#,
            ),
            (
                r#"{"detail": {}}"#,
                r#"detail: an empty object matches nothing: name at least one field"#,
            ),
            (
                r#"{"source": []}"#,
                r#"source: an empty array matches nothing: give at least one value"#,
            ),
            (
                r#"{"source": [["a"]]}"#,
                r#"source[0]: arrays inside a values array are not allowed; list the values directly"#,
            ),
            (
                r#"{"source": [{}]}"#,
                r#"source[0]: an operator object needs exactly one operator, found none"#,
            ),
            (
                r#"{"source": [{"prefix": "a", "suffix": "b"}]}"#,
                r#"source[0]: an operator object needs exactly one operator, found 2: "prefix", "suffix""#,
            ),
            (
                r#"{"source": [{"Prefix": "a"}]}"#,
                r#"source[0]: unknown operator "Prefix" (did you mean "prefix"?); operators are prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr"#,
            ),
            (
                r#"{"source": [{"anythingbut": "a"}]}"#,
                r#"source[0]: unknown operator "anythingbut" (did you mean "anything-but"?); operators are prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr"#,
            ),
            (
                r#"{"source": [{"regex": "^a"}]}"#,
                r#"source[0]: unknown operator "regex"; operators are prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr"#,
            ),
            (
                r#"{"source": [{"prefix": 1}]}"#,
                r#"source[0]: "prefix" takes a string or {"equals-ignore-case": string}, found number"#,
            ),
            (
                r#"{"source": [{"prefix": {}}]}"#,
                r#"source[0]: "prefix" takes a string or {"equals-ignore-case": string}, found {}"#,
            ),
            (
                r#"{"source": [{"prefix": {"suffix": "a"}}]}"#,
                r#"source[0]: "prefix" takes a string or {"equals-ignore-case": string}, found {"suffix": "a"}"#,
            ),
            (
                r#"{"source": [{"prefix": {"equals-ignore-case": 1}}]}"#,
                r#"source[0]: "prefix" with "equals-ignore-case" needs a string, found number"#,
            ),
            (
                r#"{"source": [{"equals-ignore-case": null}]}"#,
                r#"source[0]: "equals-ignore-case" takes a string, found null"#,
            ),
            (
                r#"{"source": [{"wildcard": 5}]}"#,
                r#"source[0]: "wildcard" takes a string, found number"#,
            ),
            (
                r#"{"source": [{"wildcard": "a**b"}]}"#,
                r#"source[0]: invalid "wildcard" pattern "a**b": consecutive wildcard characters ("**") are not allowed"#,
            ),
            (
                r#"{"source": [{"wildcard": "bad\\q"}]}"#,
                r#"source[0]: invalid "wildcard" pattern "bad\q": invalid escape "\q": only "\*" and "\\" may be escaped"#,
            ),
            (
                r#"{"source": [{"wildcard": "abc\\"}]}"#,
                r#"source[0]: invalid "wildcard" pattern "abc\": a backslash at the end must escape "*" or "\""#,
            ),
            (
                r#"{"source": [{"anything-but": null}]}"#,
                r#"source[0]: "anything-but" takes a string, a number, a list of strings or numbers, or an object with prefix, suffix, equals-ignore-case or wildcard; found null"#,
            ),
            (
                r#"{"source": [{"anything-but": [null]}]}"#,
                r#"source[0]: "anything-but" takes a list of only strings or only numbers, found [null]"#,
            ),
            (
                r#"{"source": [{"anything-but": []}]}"#,
                r#"source[0]: "anything-but" needs at least one value"#,
            ),
            (
                r#"{"source": [{"anything-but": ["a", 1]}]}"#,
                r#"source[0]: "anything-but" takes a list of only strings or only numbers, found ["a", 1]"#,
            ),
            (
                r#"{"source": [{"anything-but": 1e400}]}"#,
                r#"source[0]: 1e400 cannot be used with "anything-but": it is outside the double range or is not exactly representable as a double"#,
            ),
            (
                r#"{"source": [{"anything-but": [1, 123456789012345678901]}]}"#,
                r#"source[0]: 123456789012345678901 cannot be used with "anything-but": it is outside the double range or is not exactly representable as a double"#,
            ),
            (
                r#"{"source": [{"anything-but": {"prefix": "a", "suffix": "b"}}]}"#,
                r#"source[0]: "anything-but" takes one of prefix, suffix, equals-ignore-case or wildcard, found {"prefix": "a", "suffix": "b"}"#,
            ),
            (
                r#"{"source": [{"anything-but": {"cidr": "10.0.0.0/8"}}]}"#,
                r#"source[0]: "anything-but" cannot be combined with "cidr": use prefix, suffix, equals-ignore-case or wildcard"#,
            ),
            (
                r#"{"source": [{"anything-but": {"prefix": ""}}]}"#,
                r#"source[0]: "anything-but" with "prefix" cannot be empty: it would exclude every string"#,
            ),
            (
                r#"{"source": [{"anything-but": {"suffix": ["a", 1]}}]}"#,
                r#"source[0]: "anything-but" with "suffix" takes strings, found number"#,
            ),
            (
                r#"{"source": [{"anything-but": {"equals-ignore-case": 1}}]}"#,
                r#"source[0]: "anything-but" with "equals-ignore-case" takes a string or a list of strings, found number"#,
            ),
            (
                r#"{"source": [{"anything-but": {"wildcard": ["ok*", "bad\\q"]}}]}"#,
                r#"source[0]: invalid "wildcard" pattern "bad\q": invalid escape "\q": only "\*" and "\\" may be escaped"#,
            ),
            (
                r#"{"source": [{"numeric": 5}]}"#,
                r#"source[0]: "numeric" takes an array such as [">", 0, "<=", 5], found number"#,
            ),
            (
                r#"{"source": [{"numeric": []}]}"#,
                r#"source[0]: "numeric" needs at least one comparison"#,
            ),
            (
                r#"{"source": [{"numeric": [">"]}]}"#,
                r#"source[0]: "numeric" comparison ">" must be followed by a number"#,
            ),
            (
                r#"{"source": [{"numeric": [5, ">"]}]}"#,
                r#"source[0]: "numeric" expects a comparison (=, <, <=, >, >=) then a number, found number where the comparison should be"#,
            ),
            (
                r#"{"source": [{"numeric": ["!=", 5]}]}"#,
                r#"source[0]: "numeric" has unknown comparison "!="; use =, <, <=, > or >="#,
            ),
            (
                r#"{"source": [{"numeric": ["=", 5, "<", 6]}]}"#,
                r#"source[0]: "numeric" "=" must stand alone: ["=", number]"#,
            ),
            (
                r#"{"source": [{"numeric": ["<", 10, ">", 5]}]}"#,
                r#"source[0]: "numeric" range must give the lower bound (> or >=) first, then the upper bound (< or <=)"#,
            ),
            (
                r#"{"source": [{"numeric": [">", 10, "<", 5]}]}"#,
                r#"source[0]: "numeric" range is empty: the lower bound 10 must be less than the upper bound 5"#,
            ),
            (
                r#"{"source": [{"numeric": [">=", 5, "<=", 5]}]}"#,
                r#"source[0]: "numeric" range is empty: the lower bound 5 must be less than the upper bound 5"#,
            ),
            (
                r#"{"source": [{"numeric": [">", 1, "<", 5, "<", 9]}]}"#,
                r#"source[0]: "numeric" takes at most two comparisons: a lower bound and an upper bound"#,
            ),
            (
                r#"{"source": [{"numeric": [">", 5, ">", 10]}]}"#,
                r#"source[0]: "numeric" range needs an upper bound (< or <=) after the lower bound, found ">""#,
            ),
            (
                r#"{"source": [{"numeric": ["<", 9007199254740993]}]}"#,
                r#"source[0]: 9007199254740993 cannot be used with "numeric": it is outside the double range or is not exactly representable as a double"#,
            ),
            (
                r#"{"source": [{"numeric": [">", "5"]}]}"#,
                r#"source[0]: "numeric" comparison ">" must be followed by a number"#,
            ),
            (
                r#"{"source": [{"exists": "true"}]}"#,
                r#"source[0]: "exists" takes true or false, found string "true" (write it without quotes)"#,
            ),
            (
                r#"{"source": [{"exists": 1}]}"#,
                r#"source[0]: "exists" takes true or false, found number"#,
            ),
            (
                r#"{"source": [{"cidr": 5}]}"#,
                r#"source[0]: "cidr" takes a string such as "10.0.0.0/24", found number"#,
            ),
            (
                r#"{"source": [{"cidr": "10.0.0.0"}]}"#,
                r#"source[0]: "10.0.0.0" is not a CIDR block: expected ADDRESS/PREFIX-LENGTH, e.g. "10.0.0.0/8""#,
            ),
            (
                r#"{"source": [{"cidr": "10.0.0.1/32"}]}"#,
                r#"source[0]: "10.0.0.1/32" is a single address, which EventBridge does not accept as a CIDR block; match it exactly instead: ["10.0.0.1"]"#,
            ),
            (
                r#"{"source": [{"cidr": "2001:db8::1/128"}]}"#,
                r#"source[0]: "2001:db8::1/128" is a single address, which EventBridge does not accept as a CIDR block; match it exactly instead: ["2001:db8::1"]"#,
            ),
            (
                r#"{"source": [{"cidr": "10.0.0.0/-1"}]}"#,
                r#"source[0]: "-1" is not a valid prefix length for this address: use 0 to 31"#,
            ),
            (
                r#"{"source": [{"cidr": " 10.0.0.0/8"}]}"#,
                r#"source[0]: " 10.0.0.0" is not an IPv4 or IPv6 address"#,
            ),
            (
                r#"{"source": [{"$or": ["a", "b"]}]}"#,
                r#"source[0]: $or cannot stand inside a field's array; put it in the pattern object: {"$or": [{...}, {...}]}"#,
            ),
            (
                r#"{"detail": {"$or": [{"a": ["1"]}]}}"#,
                r#"detail.$or: $or must be an array of at least two pattern objects, found 1 element"#,
            ),
            (
                r#"{"$or": []}"#,
                r#"$or: $or must be an array of at least two pattern objects, found 0 elements"#,
            ),
            (
                r#"{"source": ["x"], "$or": "region"}"#,
                r#"$or: $or must be an array of at least two pattern objects, found string"#,
            ),
            (
                r#"{"$or": [{"source": ["a"]}, "detail-type"]}"#,
                r#"$or[1]: each $or branch must be a pattern object, found string"#,
            ),
            (
                r#"{"$or": [{"prefix": ["a"]}, {"region": ["x"]}]}"#,
                r#"$or[0].prefix: "prefix" is a reserved operator name and cannot be a field name inside $or; operators go inside a field's array, e.g. {"field": [{"prefix": "a"}]}"#,
            ),
            (
                r#"{"$or": [{"detail": {"numeric": ["a"]}}, {"region": ["x"]}]}"#,
                r#"$or[0].detail.numeric: "numeric" is a reserved operator name and cannot be a field name inside $or; operators go inside a field's array, e.g. {"field": [{"prefix": "a"}]}"#,
            ),
            (
                r#"{"source": ["a"],"#,
                r#"pattern is not valid JSON: unexpected end of input, expected a string key at line 1 column 18"#,
            ),
        ];
        let mut wrong = Vec::new();
        for (pattern, expected) in cases {
            let got = message(pattern);
            if got != expected {
                wrong.push(format!(
                    "{pattern}\n  expected: {expected}\n  got:      {got}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn error_spans_point_at_the_offending_value() {
        let text = "{\n  \"detail\": {\n    \"state\": [{\"prefix\": 5}]\n  }\n}";
        let e = compile_text(text, &PatternLimits::default()).unwrap_err();
        assert_eq!(e.location, "detail.state[0]");
        assert_eq!(crate::json::line_col(text, e.span.start), (3, 26));
    }

    #[test]
    fn limits_are_enforced_with_clear_messages() {
        let small = PatternLimits {
            max_bytes: 20,
            ..PatternLimits::default()
        };
        assert_eq!(
            compile_text(r#"{"source": ["aws.ec2", "aws.s3"]}"#, &small)
                .unwrap_err()
                .to_string(),
            "pattern is 33 bytes, more than the limit of 20 bytes"
        );
        let shallow = PatternLimits {
            max_depth: 3,
            ..PatternLimits::default()
        };
        assert_eq!(
            compile_text(r#"{"a": {"b": {"c": {"d": ["x"]}}}}"#, &shallow)
                .unwrap_err()
                .to_string(),
            "a.b.c: pattern nesting is deeper than the limit of 3 levels"
        );
        // 2 x 2 x 2 x ... : eleven binary $or groups give 2048 combinations.
        let groups: Vec<String> = (0..11)
            .map(|i| format!(r#""f{i}": {{"$or": [{{"a": ["1"]}}, {{"b": ["2"]}}]}}"#))
            .collect();
        let pattern = format!("{{{}}}", groups.join(", "));
        let big = PatternLimits {
            max_bytes: 1 << 20,
            ..PatternLimits::default()
        };
        assert_eq!(
            compile_text(&pattern, &big).unwrap_err().to_string(),
            "the $or groups expand to 2048 combinations, more than the limit of 1000"
        );
        let nine = groups[..9].join(", ");
        assert!(
            compile_text(&format!("{{{nine}}}"), &big).is_ok(),
            "512 combinations are fine"
        );
    }

    #[test]
    fn or_falls_back_to_a_plain_field_like_event_ruler() {
        // Not a valid $or, but a valid field called "$or" for the older compiler.
        let c = compile_text(r#"{"$or": ["a", "b"]}"#, &PatternLimits::default()).unwrap();
        assert_eq!(c.fields[0].path, "$or");
        assert!(c.any_of.is_empty());
        let c = compile_text(r#"{"$or": {"x": ["a"]}}"#, &PatternLimits::default()).unwrap();
        assert_eq!(c.fields[0].path, "$or.x");
    }

    #[test]
    fn repeated_keys_keep_the_last_like_event_ruler() {
        let c = compile_text(
            r#"{"a": ["1"], "a": ["2"], "b": {"c": ["3"]}, "b.c": ["4"]}"#,
            &PatternLimits::default(),
        )
        .unwrap();
        let fields: Vec<_> = c
            .fields
            .iter()
            .map(|f| (f.path.as_str(), f.source.as_str()))
            .collect();
        assert_eq!(fields, [("a", r#"["2"]"#), ("b.c", r#"["4"]"#)]);
    }
}
