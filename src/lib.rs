//! switchyard: a self-hosted, EventBridge-compatible event router.
//!
//! The library holds the product's own ideas behind boundaries a server can wrap:
//! `pattern` (the EventBridge pattern language and its matchers), `rules` (rule
//! files, validation, hot-reloaded snapshots) and `transform` (what a target
//! receives: `Input`, `InputPath`, `InputTransformer`). `json` is the span-keeping
//! reader the first two use, `bench` the measurements; the `switchyard` binary (`cli`) is a thin
//! command-line front end over them.

pub mod bench;
pub mod cli;
pub mod json;
pub mod pattern;
pub mod rules;
pub mod transform;
