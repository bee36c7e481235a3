//! switchyard: a self-hosted, EventBridge-compatible event router.
//!
//! The library holds the product's own ideas behind boundaries a server can wrap:
//! `pattern` (the EventBridge pattern language and its matchers) and `rules` (rule
//! files, validation, hot-reloaded snapshots). `json` is the span-keeping reader
//! both use, `bench` the measurements; the `switchyard` binary (`cli`) is a thin
//! command-line front end over them.

pub mod bench;
pub mod cli;
pub mod config;
pub mod event;
pub mod json;
pub mod metrics;
pub mod pattern;
pub mod router;
pub mod rules;
pub mod serve;
pub mod sources;
pub mod targets;
pub mod transform;
