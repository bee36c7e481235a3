//! switchyard: a self-hosted, EventBridge-compatible event router.
//!
//! The library holds the product's own ideas behind boundaries a server can wrap:
//! `pattern` (the EventBridge pattern language and its matchers), `rules` (rule
//! files, validation, hot-reloaded snapshots) and `transform` (what a target
//! receives: `Input`, `InputPath`, `InputTransformer`). The gateway follows one
//! event's path: `sources` (HTTP ingest) build an `event::Event` once and hand it
//! to the `router` (admission, matching, fan-out, retries, dead letters), which
//! delivers through `targets`; `serve` wires them, `config` and `metrics` serve
//! all. `json` is the span-keeping reader, `bench` the measurements; the
//! `switchyard` binary (`cli`) is a thin command-line front end over them.

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
