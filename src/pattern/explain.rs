//! Why an event did not match a pattern, in words a rule author can act on.
//!
//! The explanation names each field whose test failed, what the pattern wanted and
//! what the event had there; for `$or`, why every branch failed; and, when every
//! field matches on its own but not within one array element, which fields are
//! involved. It reuses the reference matcher's definitions so that it can never
//! disagree with it.
//!
//! A test inside a `$or` branch that a later test of the same path beside the
//! `$or` overrides (see `reference::expand`) never takes part in matching, so it
//! is left out of explanations too.

use std::fmt;

use super::event::{EventError, FlatEvent, Shape};
use super::model::{AnyOf, Conjunction, FieldTest, Scalar};
use super::reference::{Budget, candidates, conjunction_holds, shadowed};
use crate::json::write_json_string;

/// The reasons a pattern did not match one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A field has no value that passes its tests.
    Field {
        path: String,
        /// The pattern's values array as written.
        wanted: String,
        /// What the event has there, in words.
        found: Found,
    },
    /// No branch of a `$or` holds.
    NoBranch {
        location: String,
        branches: Vec<Explanation>,
    },
    /// Each field matches on its own, but not within one element of the arrays
    /// they share.
    NotInSameElement { paths: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Missing,
    Object,
    EmptyArray,
    /// The event's values at the path, as JSON.
    Values(Vec<String>),
}

pub(super) fn explain(
    root: &Conjunction,
    event: &FlatEvent<'_>,
    budget: &Budget,
) -> Result<Option<Explanation>, EventError> {
    if conjunction_holds(root, event, budget)? {
        return Ok(None);
    }
    explain_conjunction(&live(root, &[]), event, budget).map(Some)
}

/// The conjunction without the branch tests that enclosing tests override: the
/// same combinations, so it matches exactly when the original does.
fn live(c: &Conjunction, outer: &[&FieldTest]) -> Conjunction {
    let fields: Vec<FieldTest> = c
        .fields
        .iter()
        .filter(|t| !shadowed(t, outer))
        .cloned()
        .collect();
    let mut enclosing = outer.to_vec();
    enclosing.extend(&c.fields);
    Conjunction {
        fields,
        any_of: c
            .any_of
            .iter()
            .map(|group| AnyOf {
                location: group.location.clone(),
                branches: group.branches.iter().map(|b| live(b, &enclosing)).collect(),
            })
            .collect(),
    }
}

fn explain_conjunction(
    c: &Conjunction,
    event: &FlatEvent<'_>,
    budget: &Budget,
) -> Result<Explanation, EventError> {
    let mut reasons: Vec<Reason> = c
        .fields
        .iter()
        .filter(|test| candidates(test, event).is_empty())
        .map(|test| field_reason(test, event))
        .collect();
    for group in &c.any_of {
        let mut holds = false;
        for branch in &group.branches {
            if conjunction_holds(branch, event, budget)? {
                holds = true;
                break;
            }
        }
        if !holds {
            let branches = group
                .branches
                .iter()
                .map(|b| explain_conjunction(b, event, budget))
                .collect::<Result<_, _>>()?;
            reasons.push(Reason::NoBranch {
                location: group.location.clone(),
                branches,
            });
        }
    }
    if reasons.is_empty() {
        let mut paths = Vec::new();
        collect_array_paths(c, event, &mut paths);
        reasons.push(Reason::NotInSameElement { paths });
    }
    Ok(Explanation { reasons })
}

fn field_reason(test: &FieldTest, event: &FlatEvent<'_>) -> Reason {
    let values: Vec<String> = event.at(&test.path).map(|l| render(&l.value)).collect();
    let found = if !values.is_empty() {
        Found::Values(values)
    } else {
        match event.shapes.iter().find(|(p, _)| *p == test.path) {
            Some((_, Shape::Object)) => Found::Object,
            Some((_, Shape::EmptyArray)) => Found::EmptyArray,
            None => Found::Missing,
        }
    };
    Reason::Field {
        path: test.path.clone(),
        wanted: test.source.clone(),
        found,
    }
}

/// Paths of the conjunction's fields whose matching values sit inside arrays.
fn collect_array_paths(c: &Conjunction, event: &FlatEvent<'_>, out: &mut Vec<String>) {
    for test in &c.fields {
        let in_array = candidates(test, event)
            .iter()
            .any(|leaf| leaf.is_some_and(|l| !l.membership.is_empty()));
        if in_array && !out.contains(&test.path) {
            out.push(test.path.clone());
        }
    }
    for group in &c.any_of {
        for branch in &group.branches {
            collect_array_paths(branch, event, out);
        }
    }
}

fn render(value: &Scalar<'_>) -> String {
    match value {
        Scalar::String(s) => {
            let mut out = String::new();
            let _ = write_json_string(&mut out, s);
            out
        }
        Scalar::Number(n) => n.text.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null => "null".to_string(),
    }
}

impl Explanation {
    fn write(&self, f: &mut impl fmt::Write, indent: usize) -> fmt::Result {
        let pad = " ".repeat(indent);
        for reason in &self.reasons {
            match reason {
                Reason::Field {
                    path,
                    wanted,
                    found,
                } => {
                    write!(f, "{pad}- {path}: ")?;
                    match found {
                        Found::Missing => writeln!(f, "missing (wanted one of {wanted})")?,
                        Found::Object => writeln!(
                            f,
                            "event has an object here, but patterns match values (wanted one of {wanted}; name the fields inside instead)"
                        )?,
                        Found::EmptyArray => {
                            writeln!(f, "event has an empty array (wanted one of {wanted})")?
                        }
                        Found::Values(values) => {
                            let has = if values.len() == 1 {
                                values[0].clone()
                            } else {
                                format!("[{}]", values.join(", "))
                            };
                            writeln!(f, "wanted one of {wanted}, event has {has}")?
                        }
                    }
                }
                Reason::NoBranch { location, branches } => {
                    writeln!(
                        f,
                        "{pad}- {location}: none of the {} branches matched",
                        branches.len()
                    )?;
                    for (i, branch) in branches.iter().enumerate() {
                        writeln!(f, "{pad}    {location}[{i}]:")?;
                        branch.write(f, indent + 6)?;
                    }
                }
                Reason::NotInSameElement { paths } => writeln!(
                    f,
                    "{pad}- each field matches on its own, but not within the same array element: {}",
                    paths.join(", ")
                )?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write(&mut out, 0)?;
        f.write_str(out.trim_end())
    }
}
