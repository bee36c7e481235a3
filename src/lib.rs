//! switchyard: a self-hosted, EventBridge-compatible event router.
//!
//! The library holds the product's own ideas (the pattern language and its
//! matchers) behind boundaries a server can wrap; the `switchyard` binary is a thin
//! command-line front end over it.

pub mod bench;
pub mod cli;
pub mod json;
pub mod pattern;
pub mod rules;
