//! The compiled matcher: every pattern of every rule in one structure, so that the
//! cost of matching an event grows with what the event hits, not with the number
//! of patterns.
//!
//! How it fits together:
//! - Each pattern is expanded into sub-patterns (one per `$or` combination); a
//!   sub-pattern is a list of clauses, one per field path, each clause a
//!   *predicate* (a field plus its values array). Identical predicates are shared.
//! - Fields are indexed twice: a path trie tells the scanner (`scan`) which event
//!   values to look at, and a per-field value index (`index`) turns each such value
//!   into the predicates it satisfies.
//! - Each sub-pattern is filed under one *anchor*: its most selective predicate.
//!   Only sub-patterns whose anchor was hit are checked against the other
//!   predicates hit by the event (`verify`), so 10,000 patterns on distinct values
//!   cost about as much as 5.
//!
//! The reference matcher (`super::reference`) defines the semantics; differential
//! property tests keep the two in agreement.

mod index;
mod scan;
mod verify;

use std::hash::Hash;

use rustc_hash::FxHashMap;

use super::Pattern;
use super::event::{EventError, EventLimits, read_event};
use super::model::Scalar;
use super::model::{FieldTest, ValueTest};
use super::number::NumberRef;
use super::reference::expand;
use index::FieldIndex;
use scan::{PathTrie, RawValue, ScanValue, Skipping, Visitor};
use verify::OutOfSteps;
pub use verify::Scratch;

/// A slab: a vector of slots with a free list, so ids stay stable.
#[derive(Debug, Clone)]
struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    fn insert(&mut self, value: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(value);
                i
            }
            None => {
                self.slots.push(Some(value));
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn take(&mut self, i: u32) -> T {
        let value = self.slots[i as usize].take().expect("live slab slot");
        self.free.push(i);
        value
    }

    fn get(&self, i: u32) -> &T {
        self.slots[i as usize].as_ref().expect("live slab slot")
    }

    fn get_mut(&mut self, i: u32) -> &mut T {
        self.slots[i as usize].as_mut().expect("live slab slot")
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

#[derive(Debug, Clone)]
struct Field {
    path: String,
    /// Predicates on this field.
    refs: u32,
    index: FieldIndex,
    /// Lazy predicates on this field that sub-patterns are anchored on: they are
    /// evaluated whenever the field has values.
    lazy_anchors: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Pred {
    field: u32,
    tests: Vec<ValueTest>,
    key: (u32, String),
    /// Clauses (of live sub-patterns) using this predicate.
    refs: u32,
    /// Sub-patterns anchored here.
    anchored: Vec<u32>,
    /// How selective the predicate is: lower is better (see `selectivity`).
    class: u8,
    /// Made only of tests tried value by value (anything-but, exists,
    /// wildcards, ...): kept out of the field index and evaluated only when a
    /// candidate sub-pattern asks, since such predicates hold for most events.
    lazy: bool,
}

/// One clause of a sub-pattern.
#[derive(Debug, Clone, Copy)]
struct Clause {
    pred: u32,
    field: u32,
    /// The values array allows `exists: false`.
    absent_ok: bool,
}

#[derive(Debug, Clone)]
struct Sub {
    pattern: u32,
    /// In sorted path order, which is the order `exists: false` is judged in.
    clauses: Vec<Clause>,
    /// The predicate this sub-pattern is filed under; `None` when every clause
    /// can hold by absence, so it must be checked for every event.
    anchor: Option<u32>,
}

/// One added pattern.
#[derive(Debug, Clone)]
struct Entry {
    /// Slot of its id in `ids`.
    id: u32,
    subs: Vec<u32>,
}

/// One id and the patterns added under it.
#[derive(Debug, Clone)]
struct IdEntry<I> {
    id: I,
    entries: Vec<u32>,
}

/// How likely a predicate is to hold for a random event: exact values are rare,
/// prefixes and ranges less so, `anything-but` and `exists` hold almost always.
fn selectivity(tests: &[ValueTest]) -> u8 {
    tests
        .iter()
        .map(|t| match t {
            ValueTest::Exact(_) | ValueTest::EqualsIgnoreCase(_) => 0,
            ValueTest::Prefix(_)
            | ValueTest::Suffix(_)
            | ValueTest::PrefixIgnoreCase(_)
            | ValueTest::SuffixIgnoreCase(_)
            | ValueTest::Wildcard(_)
            | ValueTest::Cidr(_) => 1,
            ValueTest::Numeric(_) => 2,
            ValueTest::AnythingBut(_) | ValueTest::Exists(_) => 3,
        })
        .max()
        .unwrap_or(3)
}

/// Patterns under ids, compiled into one matching structure.
#[derive(Debug, Clone)]
pub struct CompiledMatcher<I> {
    limits: EventLimits,
    entries: Slab<Entry>,
    ids: Slab<IdEntry<I>>,
    by_id: FxHashMap<I, u32>,
    subs: Slab<Sub>,
    preds: Slab<Pred>,
    pred_by_key: FxHashMap<(u32, String), u32>,
    fields: Slab<Field>,
    field_by_path: FxHashMap<String, u32>,
    paths: PathTrie,
    /// Sub-patterns without an anchor.
    unanchored: Vec<u32>,
}

impl<I> Default for CompiledMatcher<I> {
    fn default() -> Self {
        Self::new(EventLimits::default())
    }
}

impl<I> CompiledMatcher<I> {
    pub fn new(limits: EventLimits) -> Self {
        CompiledMatcher {
            limits,
            entries: Slab::default(),
            ids: Slab::default(),
            by_id: FxHashMap::default(),
            subs: Slab::default(),
            preds: Slab::default(),
            pred_by_key: FxHashMap::default(),
            fields: Slab::default(),
            field_by_path: FxHashMap::default(),
            paths: PathTrie::default(),
            unanchored: Vec::new(),
        }
    }

    /// Number of patterns held.
    pub fn len(&self) -> usize {
        self.entries.live()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<I: Clone + Eq + Hash> CompiledMatcher<I> {
    /// Adds a pattern under `id`. Several patterns may share an id; the id matches
    /// when any of them does.
    pub fn add(&mut self, id: I, pattern: Pattern) {
        let id_slot = match self.by_id.get(&id) {
            Some(&slot) => slot,
            None => {
                let slot = self.ids.insert(IdEntry {
                    id: id.clone(),
                    entries: Vec::new(),
                });
                self.by_id.insert(id, slot);
                slot
            }
        };
        let entry = self.entries.insert(Entry {
            id: id_slot,
            subs: Vec::new(),
        });
        self.ids.get_mut(id_slot).entries.push(entry);
        let mut subs = Vec::new();
        for clauses in expand(&pattern.root) {
            let clauses: Vec<Clause> = clauses.into_iter().map(|t| self.clause(t)).collect();
            let anchor = clauses
                .iter()
                .filter(|c| !c.absent_ok)
                .min_by_key(|c| {
                    // Avoid predicates that hold for almost any value; otherwise
                    // prefer the least shared (a value many patterns name, like a
                    // source, is likely common in events too), then the most
                    // selective kind.
                    let p = self.preds.get(c.pred);
                    (p.class >= 3, p.refs, p.class, p.anchored.len())
                })
                .map(|c| c.pred);
            let sub = self.subs.insert(Sub {
                pattern: entry,
                clauses,
                anchor,
            });
            match anchor {
                Some(p) => {
                    let pred = self.preds.get_mut(p);
                    pred.anchored.push(sub);
                    if pred.lazy && pred.anchored.len() == 1 {
                        let field = pred.field;
                        self.fields.get_mut(field).lazy_anchors.push(p);
                    }
                }
                None => self.unanchored.push(sub),
            }
            subs.push(sub);
        }
        self.entries.get_mut(entry).subs = subs;
    }

    /// Removes every pattern under `id`; returns whether there was one.
    pub fn remove(&mut self, id: &I) -> bool {
        let Some(id_slot) = self.by_id.remove(id) else {
            return false;
        };
        for entry in self.ids.take(id_slot).entries {
            for sub_id in self.entries.take(entry).subs {
                let sub = self.subs.take(sub_id);
                match sub.anchor {
                    Some(p) => {
                        let pred = self.preds.get_mut(p);
                        pred.anchored.retain(|&s| s != sub_id);
                        if pred.lazy && pred.anchored.is_empty() {
                            let field = pred.field;
                            self.fields.get_mut(field).lazy_anchors.retain(|&q| q != p);
                        }
                    }
                    None => self.unanchored.retain(|&s| s != sub_id),
                }
                for clause in sub.clauses {
                    self.release_pred(clause.pred);
                }
            }
        }
        true
    }

    /// Finds or creates the predicate for one field test.
    fn clause(&mut self, test: &FieldTest) -> Clause {
        let field = match self.field_by_path.get(&test.path) {
            Some(&f) => f,
            None => {
                let f = self.fields.insert(Field {
                    path: test.path.clone(),
                    refs: 0,
                    index: FieldIndex::default(),
                    lazy_anchors: Vec::new(),
                });
                self.field_by_path.insert(test.path.clone(), f);
                self.paths.insert(&test.path, f);
                f
            }
        };
        let key = (field, test.source.clone());
        let pred = match self.pred_by_key.get(&key) {
            Some(&p) => p,
            None => {
                let lazy = test.tests.iter().all(index::is_scanned);
                let p = self.preds.insert(Pred {
                    field,
                    tests: test.tests.clone(),
                    key: key.clone(),
                    refs: 0,
                    anchored: Vec::new(),
                    class: selectivity(&test.tests),
                    lazy,
                });
                let field_entry = self.fields.get_mut(field);
                field_entry.refs += 1;
                if !lazy {
                    for t in &test.tests {
                        field_entry.index.insert(t, p);
                    }
                }
                self.pred_by_key.insert(key, p);
                p
            }
        };
        self.preds.get_mut(pred).refs += 1;
        Clause {
            pred,
            field,
            absent_ok: test.wants_absent(),
        }
    }

    fn release_pred(&mut self, pred: u32) {
        let p = self.preds.get_mut(pred);
        p.refs -= 1;
        if p.refs > 0 {
            return;
        }
        let p = self.preds.take(pred);
        self.pred_by_key.remove(&p.key);
        let field = self.fields.get_mut(p.field);
        if !p.lazy {
            for t in &p.tests {
                field.index.remove(t, pred);
            }
        }
        field.refs -= 1;
        if field.refs == 0 {
            let field = self.fields.take(p.field);
            self.field_by_path.remove(&field.path);
            self.paths.remove(&field.path);
        }
    }

    /// The ids of all patterns that match the event, each once, in the order the
    /// patterns were first added (slots are reused after removals). The event is
    /// validated as it is scanned: bad JSON is an error, never a wrong answer.
    pub fn matches(&self, event: &[u8]) -> Result<Vec<I>, EventError> {
        verify::with_scratch(|scratch| self.run(event, Skipping::Validate, scratch))
    }

    /// As [`matches`](Self::matches) for an event validated before (at ingest):
    /// the parts no pattern names are skipped without validating them again.
    // Never inlined: one call per event costs nothing, and profiles can then
    // count this path on its own.
    #[inline(never)]
    pub fn matches_checked(&self, event: &CheckedEvent<'_>) -> Result<Vec<I>, EventError> {
        verify::with_scratch(|scratch| self.run(event.bytes, Skipping::Trust, scratch))
    }

    /// As [`matches`](Self::matches), with caller-owned scratch space.
    pub fn matches_with(&self, event: &[u8], scratch: &mut Scratch) -> Result<Vec<I>, EventError> {
        self.run(event, Skipping::Validate, scratch)
    }

    fn run(
        &self,
        event: &[u8],
        skipping: Skipping,
        scratch: &mut Scratch,
    ) -> Result<Vec<I>, EventError> {
        if event.len() > self.limits.max_bytes {
            return Err(EventError::TooLarge {
                bytes: event.len(),
                limit: self.limits.max_bytes,
            });
        }
        scratch.begin(
            self.preds.capacity(),
            self.fields.capacity(),
            self.subs.capacity(),
            self.entries.capacity(),
            self.ids.capacity(),
            self.limits.max_search_steps,
        );
        let mut collector = Collector {
            fields: &self.fields,
            scratch,
            event,
        };
        if scan::scan(
            event,
            &self.paths,
            self.limits.max_depth,
            skipping,
            &mut collector,
        )
        .is_err()
        {
            // The reference reader words the error; it cannot accept what the
            // scanner rejected, but never trust that with a panic.
            return Err(read_event(event, &self.limits)
                .err()
                .unwrap_or(EventError::NotAnObject("an unreadable value")));
        }
        let lazy = LazyPreds {
            preds: &self.preds,
            event,
        };
        // Lazy predicates that anchor sub-patterns are evaluated on every field
        // with values, so that their sub-patterns become candidates.
        let seen = std::mem::take(&mut scratch.seen_fields);
        for &field in &seen {
            let anchors = &self.fields.get(field).lazy_anchors;
            if !anchors.is_empty() {
                lazy.evaluate_all(field, anchors, scratch);
            }
        }
        scratch.seen_fields = seen;
        // The scratch's buffer, so that an event matching something allocates
        // only its answer.
        let mut matched = std::mem::take(&mut scratch.matched);
        matched.clear();
        let mut at = 0;
        // `hit_preds` may grow while sub-patterns are checked (lazy predicates);
        // only the ones hit before checking started can be anchors.
        let anchors = scratch.hit_preds.len();
        let out_of_steps = |_| EventError::SearchTooLong {
            limit: self.limits.max_search_steps,
        };
        while at < anchors {
            let pred = scratch.hit_preds[at];
            at += 1;
            for &sub in &self.preds.get(pred).anchored {
                self.consider(sub, &lazy, scratch, &mut matched)
                    .map_err(out_of_steps)?;
            }
        }
        for &sub in &self.unanchored {
            self.consider(sub, &lazy, scratch, &mut matched)
                .map_err(out_of_steps)?;
        }
        matched.sort_unstable();
        let mut ids: Vec<I> = Vec::with_capacity(matched.len());
        for &entry in &matched {
            let id_slot = self.entries.get(entry).id;
            if scratch.first_report_of_id(id_slot) {
                ids.push(self.ids.get(id_slot).id.clone());
            }
        }
        scratch.matched = matched;
        Ok(ids)
    }

    /// Checks one sub-pattern (once per event) and records its pattern on a match.
    #[inline]
    fn consider(
        &self,
        sub: u32,
        lazy: &LazyPreds<'_>,
        scratch: &mut Scratch,
        matched: &mut Vec<u32>,
    ) -> Result<(), OutOfSteps> {
        let s = self.subs.get(sub);
        if scratch.pattern_done(s.pattern) || !scratch.first_visit_of_sub(sub) {
            return Ok(());
        }
        if verify::holds(&s.clauses, lazy, scratch)? {
            scratch.mark_pattern_done(s.pattern);
            matched.push(s.pattern);
        }
        Ok(())
    }
}

/// Event bytes that have been validated as a JSON object within the limits, so
/// that matching can skip what patterns do not name without checking it again.
/// Validate once where events enter (ingest), match many times.
#[derive(Debug, Clone, Copy)]
pub struct CheckedEvent<'a> {
    bytes: &'a [u8],
}

impl<'a> CheckedEvent<'a> {
    /// Validates `bytes` (size, depth, JSON grammar, UTF-8, an object at the top).
    pub fn check(bytes: &'a [u8], limits: &EventLimits) -> Result<CheckedEvent<'a>, EventError> {
        struct Nothing;
        impl Visitor for Nothing {
            fn value(&mut self, _: u32, _: RawValue, _: &[(u32, u32)]) {}
        }
        if bytes.len() > limits.max_bytes {
            return Err(EventError::TooLarge {
                bytes: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        match scan::scan(
            bytes,
            &PathTrie::default(),
            limits.max_depth,
            Skipping::Validate,
            &mut Nothing,
        ) {
            Ok(()) => Ok(CheckedEvent { bytes }),
            Err(_) => Err(read_event(bytes, limits)
                .err()
                .unwrap_or(EventError::NotAnObject("an unreadable value"))),
        }
    }

    /// Bytes the caller built from validated parts (the router's envelopes: a
    /// detail checked with [`check`](Self::check) wrapped in escaped strings), so
    /// checking them again would only repeat work. Wrong input here can give wrong
    /// matches, never undefined behaviour: the scanner stays bounds-checked.
    pub fn trusted(bytes: &'a [u8]) -> CheckedEvent<'a> {
        CheckedEvent { bytes }
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Feeds scanned values through the field indexes into the scratch space.
struct Collector<'m> {
    fields: &'m Slab<Field>,
    scratch: &'m mut Scratch,
    event: &'m [u8],
}

impl Visitor for Collector<'_> {
    #[inline]
    fn value(&mut self, field: u32, value: RawValue, membership: &[(u32, u32)]) {
        let view = value.view(self.event);
        let scalar = index::as_scalar(&view);
        let number = match &scalar {
            Scalar::Number(n) => n.value,
            _ => None,
        };
        let leaf = self.scratch.add_leaf(field, value, number, membership);
        let scratch = &mut *self.scratch;
        self.fields
            .get(field)
            .index
            .lookup(&scalar, &mut |pred| scratch.hit(pred, leaf));
    }
}

/// Evaluates lazy predicates on demand, at most once per event each.
pub(super) struct LazyPreds<'m> {
    preds: &'m Slab<Pred>,
    event: &'m [u8],
}

impl LazyPreds<'_> {
    /// Makes sure `pred`'s hits for this event are recorded.
    #[inline]
    pub(super) fn evaluate(&self, pred: u32, scratch: &mut Scratch) {
        let p = self.preds.get(pred);
        if p.lazy && scratch.first_evaluation(pred) {
            self.evaluate_on_leaves(p.field, &[pred], scratch);
        }
    }

    /// Evaluates several lazy predicates of one field (not yet evaluated for
    /// this event), looking at each value once.
    pub(super) fn evaluate_all(&self, field: u32, preds: &[u32], scratch: &mut Scratch) {
        let mut fresh = true;
        for &pred in preds {
            fresh &= scratch.first_evaluation(pred);
        }
        debug_assert!(fresh, "lazy anchors are evaluated before any other");
        self.evaluate_on_leaves(field, preds, scratch);
    }

    fn evaluate_on_leaves(&self, field: u32, preds: &[u32], scratch: &mut Scratch) {
        let mut leaf = scratch.first_leaf_of(field);
        while let Some(l) = leaf {
            let (raw, number) = scratch.leaf_value(l);
            let view = raw.view(self.event);
            // The number's value was worked out when the leaf was recorded.
            let scalar = match &view {
                ScanValue::Number(text) => Scalar::Number(NumberRef {
                    text,
                    value: number,
                }),
                _ => index::as_scalar(&view),
            };
            for &pred in preds {
                if self
                    .preds
                    .get(pred)
                    .tests
                    .iter()
                    .any(|t| t.accepts(&scalar))
                {
                    scratch.hit(pred, l);
                }
            }
            leaf = scratch.next_leaf_in_field(l);
        }
    }
}
