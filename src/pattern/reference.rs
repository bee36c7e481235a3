//! The reference matcher: obviously right, not fast.
//!
//! It unrolls each event into leaves, expands every pattern's `$or` groups into
//! plain conjunctions and, for each, searches for one accepting value per field such
//! that all chosen values come from the same element of every array they share.
//! Every pattern is tried on every event. The compiled matcher is checked against
//! this one by differential tests, so keep it simple rather than clever. The
//! search is exponential in the worst case, so it runs on a step [`Budget`]
//! (`EventLimits::max_search_steps` per event): past it, matching is an
//! [`EventError::SearchTooLong`], never a stall.
//!
//! `exists: false` follows event-ruler: fields are visited in sorted path order,
//! and a field counts as absent when none of its values is consistent with the
//! array elements chosen for the fields before it. So in
//! `{"x": {"a": ["1"], "b": [{"exists": false}]}}` against
//! `{"x": [{"a": "1"}, {"b": 2}]}` the `b` of the second element does not count.

use std::cell::Cell;
use std::hash::Hash;

use super::event::{EventLimits, FlatEvent, Leaf, read_event};
use super::model::{Conjunction, FieldTest};
use super::{EventError, Pattern};

/// Patterns under ids; answers which of them match an event.
#[derive(Debug)]
pub struct ReferenceMatcher<I> {
    patterns: Vec<(I, Pattern)>,
    limits: EventLimits,
    /// The longest field path any pattern names (events are unrolled that far).
    longest_path: usize,
}

impl<I> Default for ReferenceMatcher<I> {
    fn default() -> Self {
        ReferenceMatcher {
            patterns: Vec::new(),
            limits: EventLimits::default(),
            longest_path: 0,
        }
    }
}

impl<I: Clone + Eq + Hash> ReferenceMatcher<I> {
    pub fn new(limits: EventLimits) -> Self {
        ReferenceMatcher {
            patterns: Vec::new(),
            limits,
            longest_path: 0,
        }
    }

    /// Adds a pattern under `id`. Several patterns may share an id; the id matches
    /// when any of them does.
    pub fn add(&mut self, id: I, pattern: Pattern) {
        self.longest_path = self.longest_path.max(longest_path(&pattern.root));
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
    /// patterns were added. The array-consistency search of all patterns shares
    /// one budget of `EventLimits::max_search_steps` steps.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<I>, EventError> {
        let doc = read_event(event, &self.limits)?;
        let flat = FlatEvent::within(&doc, self.longest_path);
        let budget = Budget::new(self.limits.max_search_steps);
        let mut ids: Vec<I> = Vec::new();
        for (id, pattern) in &self.patterns {
            if !ids.contains(id) && conjunction_holds(&pattern.root, &flat, &budget)? {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }
}

/// The longest field path a conjunction names, in bytes.
pub fn longest_path(c: &Conjunction) -> usize {
    let fields = c.fields.iter().map(|f| f.path.len());
    let groups = c
        .any_of
        .iter()
        .flat_map(|g| g.branches.iter().map(longest_path));
    fields.chain(groups).max().unwrap_or(0)
}

/// Steps left for one event's array-consistency search. A step is one event
/// value tried against the values already chosen for other fields.
#[derive(Debug)]
pub struct Budget {
    left: Cell<u64>,
    limit: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget {
            left: Cell::new(limit),
            limit,
        }
    }

    /// No limit: for callers that trust their events.
    pub fn unlimited() -> Budget {
        Self::new(u64::MAX)
    }

    fn step(&self) -> Result<(), EventError> {
        match self.left.get() {
            0 => Err(EventError::SearchTooLong { limit: self.limit }),
            left => {
                self.left.set(left - 1);
                Ok(())
            }
        }
    }
}

/// Whether some expansion of the conjunction's `$or` groups is satisfied.
pub fn conjunction_holds(
    c: &Conjunction,
    event: &FlatEvent<'_>,
    budget: &Budget,
) -> Result<bool, EventError> {
    for clauses in expand(c) {
        if satisfiable(&clauses, event, budget)? {
            return Ok(true);
        }
    }
    Ok(false)
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
    // With nothing chosen yet every value is consistent: no search, no budget.
    options(test, event, &[], &Budget::unlimited()).unwrap_or_default()
}

/// The ways one field test can hold given the values already chosen for other
/// fields: an accepting value consistent with them, or `None` ("absent") when the
/// test allows `exists: false` and no value of the field is consistent with them.
/// Each value looked at is one step of the budget.
fn options<'e, 'a>(
    test: &'e FieldTest,
    event: &'e FlatEvent<'a>,
    chosen: &[&'e Leaf<'a>],
    budget: &Budget,
) -> Result<Vec<Option<&'e Leaf<'a>>>, EventError> {
    let mut out: Vec<Option<&Leaf<'a>>> = Vec::new();
    let mut any_consistent = false;
    for leaf in event.at(&test.path) {
        budget.step()?;
        if chosen.iter().all(|c| c.consistent_with(leaf)) {
            any_consistent = true;
            if test.accepts(&leaf.value) {
                out.push(Some(leaf));
            }
        }
    }
    if test.wants_absent() && !any_consistent {
        out.push(None);
    }
    Ok(out)
}

/// Whether the field tests (in sorted path order) can all hold with values from
/// consistent array elements.
pub fn satisfiable(
    clauses: &[&FieldTest],
    event: &FlatEvent<'_>,
    budget: &Budget,
) -> Result<bool, EventError> {
    // Refusals that need no search: a test with no accepting value fails, unless
    // it allows absence and every value of its field sits in an array (a value
    // outside arrays goes with any choice, so the field is never absent).
    for test in clauses {
        if !event.at(&test.path).any(|l| test.accepts(&l.value))
            && (!test.wants_absent() || event.at(&test.path).any(|l| l.membership.is_empty()))
        {
            return Ok(false);
        }
    }
    choose(clauses, event, &mut Vec::new(), budget)
}

fn choose<'e, 'a>(
    clauses: &[&'e FieldTest],
    event: &'e FlatEvent<'a>,
    chosen: &mut Vec<&'e Leaf<'a>>,
    budget: &Budget,
) -> Result<bool, EventError> {
    let Some((first, rest)) = clauses.split_first() else {
        return Ok(true);
    };
    for option in options(first, event, chosen, budget)? {
        let ok = match option {
            None => choose(rest, event, chosen, budget)?,
            Some(leaf) => {
                chosen.push(leaf);
                let ok = choose(rest, event, chosen, budget);
                chosen.pop();
                ok?
            }
        };
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}
