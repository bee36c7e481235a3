//! Per-event scratch space and the check of one sub-pattern against it.
//!
//! While the scanner runs, every value of a named field becomes a *leaf* (with the
//! array elements it sits in) and every predicate it satisfies records a *hit*.
//! Arrays are stamped with the event's epoch instead of being cleared, so an event
//! costs what it touches. A sub-pattern holds when each clause has a hit (or may
//! hold by absence) and the chosen values are array-consistent; the common case
//! (no arrays involved) is decided without search. The search spends the event's
//! step budget (`EventLimits::max_search_steps`, shared by all sub-patterns):
//! when it runs out, matching the event fails instead of stalling.

use std::cell::RefCell;

use super::scan::RawValue;
use super::{Clause, LazyPreds};

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Leaf {
    value: RawValue,
    /// For numbers: the value, when the number round-trips through a double.
    number: Option<f64>,
    membership_start: u32,
    membership_len: u32,
    next_in_field: u32,
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    leaf: u32,
    next: u32,
}

/// Reusable per-thread working memory for matching.
#[derive(Debug, Default)]
pub struct Scratch {
    epoch: u32,
    pred_stamp: Vec<u32>,
    pred_head: Vec<u32>,
    /// Predicates hit by the current event, each once.
    pub(super) hit_preds: Vec<u32>,
    hits: Vec<Hit>,
    field_stamp: Vec<u32>,
    field_head: Vec<u32>,
    leaves: Vec<Leaf>,
    membership: Vec<(u32, u32)>,
    sub_stamp: Vec<u32>,
    pattern_stamp: Vec<u32>,
    id_stamp: Vec<u32>,
    /// Lazy predicates already evaluated for this event.
    eval_stamp: Vec<u32>,
    /// Fields with at least one value in this event, each once.
    pub(super) seen_fields: Vec<u32>,
    chosen: Vec<u32>,
    /// The patterns the current event matched (kept to reuse its memory).
    pub(super) matched: Vec<u32>,
    /// Steps of the array-consistency search left for this event.
    steps_left: u64,
}

/// The event's search budget ran out (see `EventLimits::max_search_steps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OutOfSteps;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch space.
pub(super) fn with_scratch<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

/// Stamps entry `index` with `epoch`; true when it was not stamped yet.
#[inline]
fn first_stamp(stamps: &mut [u32], index: u32, epoch: u32) -> bool {
    let stamp = &mut stamps[index as usize];
    let first = *stamp != epoch;
    *stamp = epoch;
    first
}

fn fit(stamps: &mut Vec<u32>, len: usize) {
    if stamps.len() < len {
        stamps.resize(len, 0);
    }
}

impl Scratch {
    /// Starts a new event for a matcher with these table sizes, with `steps` of
    /// array-consistency search to spend.
    pub(super) fn begin(
        &mut self,
        preds: usize,
        fields: usize,
        subs: usize,
        patterns: usize,
        ids: usize,
        steps: u64,
    ) {
        self.steps_left = steps;
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Stamps from 2^32 events ago would look current: start afresh.
            for stamps in [
                &mut self.pred_stamp,
                &mut self.field_stamp,
                &mut self.sub_stamp,
                &mut self.pattern_stamp,
                &mut self.id_stamp,
                &mut self.eval_stamp,
            ] {
                stamps.iter_mut().for_each(|s| *s = 0);
            }
            self.epoch = 1;
        }
        fit(&mut self.pred_stamp, preds);
        fit(&mut self.pred_head, preds);
        fit(&mut self.eval_stamp, preds);
        fit(&mut self.field_stamp, fields);
        fit(&mut self.field_head, fields);
        fit(&mut self.sub_stamp, subs);
        fit(&mut self.pattern_stamp, patterns);
        fit(&mut self.id_stamp, ids);
        self.hit_preds.clear();
        self.seen_fields.clear();
        self.hits.clear();
        self.leaves.clear();
        self.membership.clear();
    }

    /// Records one value of a named field; returns its leaf index.
    #[inline]
    pub(super) fn add_leaf(
        &mut self,
        field: u32,
        value: RawValue,
        number: Option<f64>,
        membership: &[(u32, u32)],
    ) -> u32 {
        let f = field as usize;
        if self.field_stamp[f] != self.epoch {
            self.field_stamp[f] = self.epoch;
            self.field_head[f] = NONE;
            self.seen_fields.push(field);
        }
        let leaf = self.leaves.len() as u32;
        self.leaves.push(Leaf {
            value,
            number,
            membership_start: self.membership.len() as u32,
            membership_len: membership.len() as u32,
            next_in_field: self.field_head[f],
        });
        self.membership.extend_from_slice(membership);
        self.field_head[f] = leaf;
        leaf
    }

    /// Records that `leaf` satisfies `pred`.
    #[inline]
    pub(super) fn hit(&mut self, pred: u32, leaf: u32) {
        let p = pred as usize;
        if self.pred_stamp[p] != self.epoch {
            self.pred_stamp[p] = self.epoch;
            self.pred_head[p] = NONE;
            self.hit_preds.push(pred);
        }
        let head = self.pred_head[p];
        if head != NONE && self.hits[head as usize].leaf == leaf {
            return; // the same value satisfied another test of the same predicate
        }
        self.pred_head[p] = self.hits.len() as u32;
        self.hits.push(Hit { leaf, next: head });
    }

    /// True the first time it is asked about `pred` in this event.
    pub(super) fn first_evaluation(&mut self, pred: u32) -> bool {
        first_stamp(&mut self.eval_stamp, pred, self.epoch)
    }

    pub(super) fn first_leaf_of(&self, field: u32) -> Option<u32> {
        let head = if self.field_seen(field) {
            self.field_head[field as usize]
        } else {
            NONE
        };
        (head != NONE).then_some(head)
    }

    pub(super) fn next_leaf_in_field(&self, leaf: u32) -> Option<u32> {
        let next = self.leaves[leaf as usize].next_in_field;
        (next != NONE).then_some(next)
    }

    pub(super) fn leaf_value(&self, leaf: u32) -> (RawValue, Option<f64>) {
        let l = &self.leaves[leaf as usize];
        (l.value, l.number)
    }

    pub(super) fn first_visit_of_sub(&mut self, sub: u32) -> bool {
        first_stamp(&mut self.sub_stamp, sub, self.epoch)
    }

    /// True the first time an id is reported for this event.
    pub(super) fn first_report_of_id(&mut self, id: u32) -> bool {
        first_stamp(&mut self.id_stamp, id, self.epoch)
    }

    pub(super) fn pattern_done(&self, pattern: u32) -> bool {
        self.pattern_stamp[pattern as usize] == self.epoch
    }

    pub(super) fn mark_pattern_done(&mut self, pattern: u32) {
        self.pattern_stamp[pattern as usize] = self.epoch;
    }

    fn pred_hit(&self, pred: u32) -> bool {
        self.pred_stamp[pred as usize] == self.epoch
    }

    fn field_seen(&self, field: u32) -> bool {
        self.field_stamp[field as usize] == self.epoch
    }

    fn hit_leaves(&self, pred: u32) -> impl Iterator<Item = u32> + '_ {
        let mut at = if self.pred_hit(pred) {
            self.pred_head[pred as usize]
        } else {
            NONE
        };
        std::iter::from_fn(move || {
            (at != NONE).then(|| {
                let hit = self.hits[at as usize];
                at = hit.next;
                hit.leaf
            })
        })
    }

    /// Where `pred`'s list of hits starts (`NONE` when it has none); walked with
    /// [`hit_at`](Self::hit_at) rather than an iterator so that the search can
    /// spend its budget on the way.
    fn hit_head(&self, pred: u32) -> u32 {
        if self.pred_hit(pred) {
            self.pred_head[pred as usize]
        } else {
            NONE
        }
    }

    /// The value of the hit at `at`, and where the list goes on.
    fn hit_at(&self, at: u32) -> (u32, u32) {
        let hit = self.hits[at as usize];
        (hit.leaf, hit.next)
    }

    fn field_leaves(&self, field: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(self.first_leaf_of(field), |&leaf| {
            self.next_leaf_in_field(leaf)
        })
    }

    fn membership_of(&self, leaf: u32) -> &[(u32, u32)] {
        let l = self.leaves[leaf as usize];
        let start = l.membership_start as usize;
        &self.membership[start..start + l.membership_len as usize]
    }

    fn in_array(&self, leaf: u32) -> bool {
        self.leaves[leaf as usize].membership_len > 0
    }

    /// Whether two values can come from the same element of every array they share.
    fn consistent(&self, a: u32, b: u32) -> bool {
        let (ma, mb) = (self.membership_of(a), self.membership_of(b));
        ma.iter()
            .all(|(array, index)| mb.iter().all(|(x, i)| x != array || i == index))
    }

    fn consistent_with_chosen(&self, leaf: u32, chosen: &[u32]) -> bool {
        chosen.iter().all(|&c| self.consistent(c, leaf))
    }

    /// One step of the search: a value tried against the values chosen so far.
    #[inline]
    fn step(&mut self) -> Result<(), OutOfSteps> {
        if self.steps_left == 0 {
            return Err(OutOfSteps);
        }
        self.steps_left -= 1;
        Ok(())
    }

    /// As [`consistent_with_chosen`](Self::consistent_with_chosen), as one step.
    #[inline]
    fn try_leaf(&mut self, leaf: u32, chosen: &[u32]) -> Result<bool, OutOfSteps> {
        self.step()?;
        Ok(self.consistent_with_chosen(leaf, chosen))
    }
}

/// Whether a sub-pattern's clauses hold for the current event; `OutOfSteps` when
/// the event's search budget runs out on the way.
pub(super) fn holds(
    clauses: &[Clause],
    lazy: &LazyPreds<'_>,
    scratch: &mut Scratch,
) -> Result<bool, OutOfSteps> {
    let mut needs_search = false;
    for c in clauses {
        lazy.evaluate(c.pred, scratch);
        if scratch.pred_hit(c.pred) {
            // A value outside every array is consistent with any other choice.
            if !scratch.hit_leaves(c.pred).any(|l| !scratch.in_array(l)) {
                needs_search = true;
            }
        } else if c.absent_ok {
            if scratch.field_seen(c.field) {
                if scratch.field_leaves(c.field).any(|l| !scratch.in_array(l)) {
                    return Ok(false); // a value outside arrays is always present
                }
                needs_search = true;
            }
        } else {
            return Ok(false);
        }
    }
    if !needs_search {
        return Ok(true);
    }
    let mut chosen = std::mem::take(&mut scratch.chosen);
    chosen.clear();
    let ok = choose(clauses, scratch, &mut chosen);
    scratch.chosen = chosen;
    ok
}

/// Backtracking over array-consistent choices, clause by clause in path order, as
/// the reference matcher (and event-ruler) does. After each choice it checks that
/// every later clause that needs a value still has one consistent with the
/// choices so far (forward checking): otherwise an event with large arrays could
/// make the search try every combination before failing. Every value tried is a
/// step of the event's budget, so even the worst event ends.
fn choose(
    clauses: &[Clause],
    scratch: &mut Scratch,
    chosen: &mut Vec<u32>,
) -> Result<bool, OutOfSteps> {
    let Some((c, rest)) = clauses.split_first() else {
        return Ok(true);
    };
    let mut at = scratch.hit_head(c.pred);
    while at != NONE {
        let (leaf, next) = scratch.hit_at(at);
        at = next;
        if scratch.try_leaf(leaf, chosen)? {
            chosen.push(leaf);
            let ok = still_possible(rest, scratch, chosen)
                .and_then(|possible| Ok(possible && choose(rest, scratch, chosen)?));
            chosen.pop();
            if ok? {
                return Ok(true);
            }
        }
    }
    if !c.absent_ok {
        return Ok(false);
    }
    let mut leaf = scratch.first_leaf_of(c.field);
    while let Some(l) = leaf {
        if scratch.try_leaf(l, chosen)? {
            return Ok(false); // a consistent value is there: not absent
        }
        leaf = scratch.next_leaf_in_field(l);
    }
    choose(rest, scratch, chosen)
}

/// Whether every clause that needs a value has one consistent with `chosen`.
fn still_possible(
    clauses: &[Clause],
    scratch: &mut Scratch,
    chosen: &[u32],
) -> Result<bool, OutOfSteps> {
    for c in clauses {
        if c.absent_ok {
            continue;
        }
        let mut at = scratch.hit_head(c.pred);
        let mut found = false;
        while at != NONE {
            let (leaf, next) = scratch.hit_at(at);
            at = next;
            if scratch.try_leaf(leaf, chosen)? {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}
