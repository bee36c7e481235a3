//! The reference matcher: obviously right, not fast.
//!
//! It unrolls each event into leaves, expands every pattern's `$or` groups into
//! plain conjunctions and, for each, searches for one accepting value per field such
//! that all chosen values come from the same element of every array they share.
//! Every pattern is tried on every event. The compiled matcher is checked against
//! this one by differential tests, so keep it simple rather than clever.
//!
//! `exists: false` follows event-ruler: fields are visited in sorted path order,
//! and a field counts as absent when none of its values is consistent with the
//! array elements chosen for the fields before it. So in
//! `{"x": {"a": ["1"], "b": [{"exists": false}]}}` against
//! `{"x": [{"a": "1"}, {"b": 2}]}` the `b` of the second element does not count.

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

/// The plain conjunctions (lists of field tests, in sorted path order, one per
/// path) that a pattern's `$or` groups expand to.
///
/// When a combination names a path more than once (beside a `$or` and inside one
/// of its branches, or in branches of two `$or`s), the test written last in the
/// pattern wins, whichever side of the `$or` it stands on: event-ruler copies the
/// fields read so far into each branch and writes each later field into every
/// branch, so later writes replace earlier ones.
pub fn expand(c: &Conjunction) -> Vec<Vec<&FieldTest>> {
    let mut all = expand_unsorted(c);
    for clauses in &mut all {
        // By path, the last written first; then keep one test per path.
        clauses.sort_by(|a, b| a.path.cmp(&b.path).then(b.order.cmp(&a.order)));
        clauses.dedup_by(|later, kept| later.path == kept.path);
    }
    all
}

/// Whether `test` is overridden, in every combination it takes part in, by a
/// test of the same path written later in one of the enclosing conjunctions.
pub fn shadowed(test: &FieldTest, outer: &[&FieldTest]) -> bool {
    outer
        .iter()
        .any(|o| o.path == test.path && o.order > test.order)
}

fn expand_unsorted(c: &Conjunction) -> Vec<Vec<&FieldTest>> {
    let mut out: Vec<Vec<&FieldTest>> = vec![c.fields.iter().collect()];
    for group in &c.any_of {
        let mut next = Vec::new();
        for partial in &out {
            for branch in &group.branches {
                for tail in expand_unsorted(branch) {
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

/// The ways one field test can hold on its own: an accepting value, or `None`
/// for "absent" when the test allows `exists: false` and the field has no value.
pub fn candidates<'e, 'a>(
    test: &'e FieldTest,
    event: &'e FlatEvent<'a>,
) -> Vec<Option<&'e Leaf<'a>>> {
    options(test, event, &[])
}

/// The ways one field test can hold given the values already chosen for other
/// fields: an accepting value consistent with them, or `None` ("absent") when the
/// test allows `exists: false` and no value of the field is consistent with them.
fn options<'e, 'a>(
    test: &'e FieldTest,
    event: &'e FlatEvent<'a>,
    chosen: &[&'e Leaf<'a>],
) -> Vec<Option<&'e Leaf<'a>>> {
    let consistent = |leaf: &&Leaf<'a>| chosen.iter().all(|c| c.consistent_with(leaf));
    let mut out: Vec<Option<&Leaf<'a>>> = event
        .at(&test.path)
        .filter(consistent)
        .filter(|leaf| test.accepts(&leaf.value))
        .map(Some)
        .collect();
    if test.wants_absent() && !event.at(&test.path).any(|l| consistent(&l)) {
        out.push(None);
    }
    out
}

/// Whether the field tests (in sorted path order) can all hold with values from
/// consistent array elements.
pub fn satisfiable(clauses: &[&FieldTest], event: &FlatEvent<'_>) -> bool {
    choose(clauses, event, &mut Vec::new())
}

fn choose<'e, 'a>(
    clauses: &[&'e FieldTest],
    event: &'e FlatEvent<'a>,
    chosen: &mut Vec<&'e Leaf<'a>>,
) -> bool {
    let Some((first, rest)) = clauses.split_first() else {
        return true;
    };
    options(first, event, chosen)
        .into_iter()
        .any(|option| match option {
            None => choose(rest, event, chosen),
            Some(leaf) => {
                chosen.push(leaf);
                let ok = choose(rest, event, chosen);
                chosen.pop();
                ok
            }
        })
}
