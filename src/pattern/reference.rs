//! The reference matcher: obviously right, not fast.
//!
//! It unrolls each event into leaves, expands every pattern's `$or` groups into
//! plain conjunctions and, for each, searches for one accepting value per field such
//! that all chosen values come from the same element of every array they share.
//! Every pattern is tried on every event. The compiled matcher is checked against
//! this one by differential tests, so keep it simple rather than clever.

use std::hash::Hash;

use super::event::{EventLimits, FlatEvent, Leaf, read_event};
use super::model::{Conjunction, FieldTest};
use super::{EventError, Pattern};

/// Patterns under ids; answers which of them match an event.
#[derive(Debug)]
pub struct ReferenceMatcher<I> {
    patterns: Vec<(I, Pattern)>,
    limits: EventLimits,
}

impl<I> Default for ReferenceMatcher<I> {
    fn default() -> Self {
        ReferenceMatcher {
            patterns: Vec::new(),
            limits: EventLimits::default(),
        }
    }
}

impl<I: Clone + Eq + Hash> ReferenceMatcher<I> {
    pub fn new(limits: EventLimits) -> Self {
        ReferenceMatcher {
            patterns: Vec::new(),
            limits,
        }
    }

    /// Adds a pattern under `id`. Several patterns may share an id; the id matches
    /// when any of them does.
    pub fn add(&mut self, id: I, pattern: Pattern) {
        self.patterns.push((id, pattern));
    }

    /// Removes every pattern under `id`; returns whether there was one.
    pub fn remove(&mut self, id: &I) -> bool {
        let before = self.patterns.len();
        self.patterns.retain(|(i, _)| i != id);
        self.patterns.len() != before
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The ids of all patterns that match the event, each once, in the order the
    /// patterns were added.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<I>, EventError> {
        let doc = read_event(event, &self.limits)?;
        let flat = FlatEvent::new(&doc);
        let mut ids: Vec<I> = Vec::new();
        for (id, pattern) in &self.patterns {
            if !ids.contains(id) && conjunction_holds(&pattern.root, &flat) {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }
}

/// Whether some expansion of the conjunction's `$or` groups is satisfied.
pub fn conjunction_holds(c: &Conjunction, event: &FlatEvent<'_>) -> bool {
    expand(c).iter().any(|clauses| satisfiable(clauses, event))
}

/// The plain conjunctions (lists of field tests) a pattern's `$or` groups expand to.
pub fn expand(c: &Conjunction) -> Vec<Vec<&FieldTest>> {
    let mut out: Vec<Vec<&FieldTest>> = vec![c.fields.iter().collect()];
    for group in &c.any_of {
        let mut next = Vec::new();
        for partial in &out {
            for branch in &group.branches {
                for tail in expand(branch) {
                    let mut combined = partial.clone();
                    combined.extend(tail);
                    next.push(combined);
                }
            }
        }
        out = next;
    }
    out
}

/// The ways one field test can hold: an accepting value, or `None` for "absent"
/// when the test allows `exists: false` and the field has no value.
pub fn candidates<'e, 'a>(test: &'e FieldTest, event: &'e FlatEvent<'a>) -> Vec<Option<&'e Leaf<'a>>> {
    let mut out: Vec<Option<&Leaf<'a>>> = event
        .at(&test.path)
        .filter(|leaf| test.accepts(&leaf.value))
        .map(Some)
        .collect();
    if test.wants_absent() && event.at(&test.path).next().is_none() {
        out.push(None);
    }
    out
}

/// Whether every field test can be satisfied by values from consistent array
/// elements.
pub fn satisfiable(clauses: &[&FieldTest], event: &FlatEvent<'_>) -> bool {
    let options: Vec<_> = clauses.iter().map(|t| candidates(t, event)).collect();
    if options.iter().any(Vec::is_empty) {
        return false;
    }
    choose(&options, &mut Vec::new())
}

fn choose<'e, 'a>(options: &[Vec<Option<&'e Leaf<'a>>>], chosen: &mut Vec<&'e Leaf<'a>>) -> bool {
    let Some((first, rest)) = options.split_first() else {
        return true;
    };
    first.iter().any(|option| match option {
        None => choose(rest, chosen),
        Some(leaf) => {
            if !chosen.iter().all(|c| c.consistent_with(leaf)) {
                return false;
            }
            chosen.push(leaf);
            let ok = choose(rest, chosen);
            chosen.pop();
            ok
        }
    })
}
