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
use super::model::{FieldTest, ValueTest};
use super::reference::expand;
use index::FieldIndex;
use scan::{PathTrie, ScanValue, Visitor};
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

#[derive(Debug, Clone)]
struct Entry<I> {
    id: I,
    subs: Vec<u32>,
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
    entries: Slab<Entry<I>>,
    by_id: FxHashMap<I, Vec<u32>>,
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
        let entry = self.entries.insert(Entry {
            id: id.clone(),
            subs: Vec::new(),
        });
        let mut subs = Vec::new();
        for clauses in expand(&pattern.root) {
            let clauses: Vec<Clause> = clauses.into_iter().map(|t| self.clause(t)).collect();
            let anchor = clauses
                .iter()
                .filter(|c| !c.absent_ok)
                .min_by_key(|c| {
                    let p = self.preds.get(c.pred);
                    (p.class, p.refs, p.anchored.len())
                })
                .map(|c| c.pred);
            let sub = self.subs.insert(Sub {
                pattern: entry,
                clauses,
                anchor,
            });
            match anchor {
                Some(p) => self.preds.get_mut(p).anchored.push(sub),
                None => self.unanchored.push(sub),
            }
            subs.push(sub);
        }
        self.entries.get_mut(entry).subs = subs;
        self.by_id.entry(id).or_default().push(entry);
    }

    /// Removes every pattern under `id`; returns whether there was one.
    pub fn remove(&mut self, id: &I) -> bool {
        let Some(entries) = self.by_id.remove(id) else {
            return false;
        };
        for entry in entries {
            for sub_id in self.entries.take(entry).subs {
                let sub = self.subs.take(sub_id);
                match sub.anchor {
                    Some(p) => self.preds.get_mut(p).anchored.retain(|&s| s != sub_id),
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
                let p = self.preds.insert(Pred {
                    field,
                    tests: test.tests.clone(),
                    key: key.clone(),
                    refs: 0,
                    anchored: Vec::new(),
                    class: selectivity(&test.tests),
                });
                let field_entry = self.fields.get_mut(field);
                field_entry.refs += 1;
                for t in &test.tests {
                    field_entry.index.insert(t, p);
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
        for t in &p.tests {
            field.index.remove(t, pred);
        }
        field.refs -= 1;
        if field.refs == 0 {
            let field = self.fields.take(p.field);
            self.field_by_path.remove(&field.path);
            self.paths.remove(&field.path);
        }
    }

    /// The ids of all patterns that match the event, each once, in the order the
    /// patterns were first added (slots are reused after removals).
    pub fn matches(&self, event: &[u8]) -> Result<Vec<I>, EventError> {
        verify::with_scratch(|scratch| self.matches_with(event, scratch))
    }

    /// As [`matches`](Self::matches), with caller-owned scratch space.
    pub fn matches_with(&self, event: &[u8], scratch: &mut Scratch) -> Result<Vec<I>, EventError> {
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
        );
        let mut collector = Collector {
            fields: &self.fields,
            scratch,
        };
        if scan::scan(event, &self.paths, self.limits.max_depth, &mut collector).is_err() {
            // The reference reader words the error; it cannot accept what the
            // scanner rejected, but never trust that with a panic.
            return Err(read_event(event, &self.limits)
                .err()
                .unwrap_or(EventError::NotAnObject("an unreadable value")));
        }
        let mut matched: Vec<u32> = Vec::new();
        let hit_preds = std::mem::take(&mut scratch.hit_preds);
        for &pred in &hit_preds {
            for &sub in &self.preds.get(pred).anchored {
                self.consider(sub, scratch, &mut matched);
            }
        }
        scratch.hit_preds = hit_preds;
        for &sub in &self.unanchored {
            self.consider(sub, scratch, &mut matched);
        }
        matched.sort_unstable();
        let mut ids: Vec<I> = Vec::with_capacity(matched.len());
        for entry in matched {
            let id = &self.entries.get(entry).id;
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }

    /// Checks one sub-pattern (once per event) and records its pattern on a match.
    #[inline]
    fn consider(&self, sub: u32, scratch: &mut Scratch, matched: &mut Vec<u32>) {
        let s = self.subs.get(sub);
        if scratch.pattern_done(s.pattern) || !scratch.first_visit_of_sub(sub) {
            return;
        }
        if verify::holds(&s.clauses, scratch) {
            scratch.mark_pattern_done(s.pattern);
            matched.push(s.pattern);
        }
    }

    /// Rough heap use of the structure in bytes, for reporting memory per pattern.
    pub fn heap_estimate(&self) -> usize {
        use std::mem::size_of;
        self.entries.capacity() * size_of::<Option<Entry<I>>>()
            + self.subs.capacity() * size_of::<Option<Sub>>()
            + self.preds.capacity() * size_of::<Option<Pred>>()
            + self.fields.capacity() * size_of::<Option<Field>>()
    }
}

/// Feeds scanned values through the field indexes into the scratch space.
struct Collector<'m> {
    fields: &'m Slab<Field>,
    scratch: &'m mut Scratch,
}

impl Visitor for Collector<'_> {
    #[inline]
    fn value(&mut self, field: u32, value: ScanValue<'_>, membership: &[(u32, u32)]) {
        let leaf = self.scratch.add_leaf(field, membership);
        let scratch = &mut *self.scratch;
        self.fields
            .get(field)
            .index
            .lookup(&value, &mut |pred| scratch.hit(pred, leaf));
    }
}
