//! The EventBridge event-pattern language: reading and validating patterns with
//! precise errors, matching them against events, and explaining non-matches.
//!
//! - `compile` validates pattern JSON into the `model`.
//! - `event` reads events (with size and depth limits) and unrolls them into values.
//! - `reference` is the simple matcher every faster one is checked against.
//! - `compiled` is the fast matcher the product uses: all patterns in one
//!   structure, events scanned once (see its module comment).
//! - `explain` says why an event did not match.
//! - `complexity` measures wildcard complexity as EventBridge does, to reject
//!   patterns it would call too complex.
//! - `number`, `text` and `ip` hold the value semantics (round-tripping numbers,
//!   case-insensitive comparison and wildcards, addresses and CIDR blocks).
//!
//! Nothing here knows about rule files, targets or the server.

mod compile;
pub mod compiled;
mod complexity;
pub mod event;
mod explain;
pub mod ip;
pub mod model;
pub mod number;
pub mod reference;
pub mod text;

pub use compile::{PatternError, PatternLimits};
pub use compiled::{CheckedEvent, CompiledMatcher};
pub use event::{EventError, EventLimits};
pub use explain::Explanation;
pub use reference::ReferenceMatcher;

use crate::json::Json;
use event::FlatEvent;
use model::Conjunction;
use reference::Budget;

/// A validated event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub(crate) root: Conjunction,
}

impl Pattern {
    /// Reads and validates pattern text with EventBridge's default limits.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        Self::parse_with(text, &PatternLimits::default())
    }

    pub fn parse_with(text: &str, limits: &PatternLimits) -> Result<Pattern, PatternError> {
        compile::compile_text(text, limits).map(|root| Pattern { root })
    }

    /// Validates a pattern that is part of a larger JSON document; error spans
    /// point into that document.
    pub fn from_json(doc: &Json, limits: &PatternLimits) -> Result<Pattern, PatternError> {
        compile::compile_json(doc, limits).map(|root| Pattern { root })
    }

    /// The validated form, for matchers.
    pub fn root(&self) -> &Conjunction {
        &self.root
    }

    /// Whether this pattern matches an event already read with [`event::read_event`],
    /// with no limit on the array-consistency search (for trusted events; see
    /// [`matches_within`](Self::matches_within)).
    pub fn matches(&self, event: &Json) -> bool {
        self.matches_with(event, &Budget::unlimited())
            .expect("an unlimited search cannot run out")
    }

    /// As [`matches`](Self::matches), failing with [`EventError::SearchTooLong`]
    /// past `limits.max_search_steps` steps of the array-consistency search.
    pub fn matches_within(&self, event: &Json, limits: &EventLimits) -> Result<bool, EventError> {
        self.matches_with(event, &Budget::new(limits.max_search_steps))
    }

    fn matches_with(&self, event: &Json, budget: &Budget) -> Result<bool, EventError> {
        let flat = FlatEvent::within(event, reference::longest_path(&self.root));
        reference::conjunction_holds(&self.root, &flat, budget)
    }

    /// Why this pattern does not match the event, or `None` when it does, with no
    /// limit on the search (see [`explain_within`](Self::explain_within)).
    pub fn explain(&self, event: &Json) -> Option<Explanation> {
        self.explain_with(event, &Budget::unlimited())
            .expect("an unlimited search cannot run out")
    }

    /// As [`explain`](Self::explain), failing with [`EventError::SearchTooLong`]
    /// past `limits.max_search_steps` steps of the array-consistency search.
    pub fn explain_within(
        &self,
        event: &Json,
        limits: &EventLimits,
    ) -> Result<Option<Explanation>, EventError> {
        self.explain_with(event, &Budget::new(limits.max_search_steps))
    }

    fn explain_with(
        &self,
        event: &Json,
        budget: &Budget,
    ) -> Result<Option<Explanation>, EventError> {
        let flat = FlatEvent::within(event, reference::longest_path(&self.root));
        explain::explain(&self.root, &flat, budget)
    }
}

/// The matcher the rest of the product uses: the compiled one. It shares its API
/// with the reference matcher: `new(EventLimits)`, `add(id, Pattern)`,
/// `remove(&id)`, `matches(&[u8]) -> Result<Vec<id>, EventError>`.
pub type Matcher<I> = compiled::CompiledMatcher<I>;
