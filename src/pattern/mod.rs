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

    /// Whether this pattern matches an event already read with [`event::read_event`].
    pub fn matches(&self, event: &Json) -> bool {
        reference::conjunction_holds(&self.root, &FlatEvent::new(event))
    }

    /// Why this pattern does not match the event, or `None` when it does.
    pub fn explain(&self, event: &Json) -> Option<Explanation> {
        explain::explain(&self.root, &FlatEvent::new(event))
    }
}

/// The matcher the rest of the product uses: the compiled one. It shares its API
/// with the reference matcher: `new(EventLimits)`, `add(id, Pattern)`,
/// `remove(&id)`, `matches(&[u8]) -> Result<Vec<id>, EventError>`.
pub type Matcher<I> = compiled::CompiledMatcher<I>;
