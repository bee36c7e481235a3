//! Shaping what a target receives, in two steps: EventBridge's `Input`,
//! `InputPath` and `InputTransformer` (`input`, with EventBridge's behaviour),
//! then a target's Wasm plugin (`wasm`, which runs on the shaped payload).
//!
//! It owns turning one matched event into the payload bytes of one target:
//! `input::CompiledInput` is built once per target when a rule set is built (paths
//! parsed, templates split), and `CompiledInput::shape` runs per matched (rule,
//! target). A payload that cannot be built (a JSON template that is not JSON once
//! filled, an `InputPath` that selects nothing) is a `ShapeError` whose `code` names
//! why, for the dead-letter record; EventBridge drops such events silently.
//!
//! It does not match events (`crate::pattern`), validate rule files (`crate::rules`
//! checks templates and paths at load), deliver or retry; where plugin calls run
//! (the router's transform stage) is the router's business.

pub mod input;
pub mod wasm;

pub use input::{CompiledInput, EventView, ShapeContext, ShapeError};
