//! Sources: what brings events in. Each turns its input into checked envelopes
//! ([`crate::event::Event`]) and hands them to the router's [`Ingest`] with a
//! completion.
//!
//! - `aws_json`: the AWS JSON 1.1 protocol (operation from `X-Amz-Target`, error
//!   shapes both botocore and the other SDKs read), dispatching to
//! - `put_events`: `PutEvents`, exactly as EventBridge validates and answers it;
//! - `rules_api`: `TestEventPattern` and the read-only rule and bus calls,
//!   served from the running rule set;
//! - `cloudevents`: CloudEvents 1.0 over HTTP (binary, structured, batch);
//! - `sigv4`: SigV4 verification of AWS JSON requests when `[auth]` is set
//!   (CloudEvents is not SigV4-signed and stays open).
//!
//! Sources never match or deliver; they only validate, build envelopes once, and
//! answer the client.

pub mod aws_json;
pub mod cloudevents;
pub mod put_events;
pub mod rules_api;
pub mod sigv4;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use crate::metrics::{Metrics, labels};
use crate::router::Ingest;
use crate::router::routes::Routes;

/// What the sources share.
pub struct SourceContext {
    pub ingest: Ingest,
    pub routes: Arc<ArcSwap<Routes>>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub rules_dir: PathBuf,
    /// Checks AWS JSON requests' signatures; `None`: any or no signature.
    pub sigv4: Option<sigv4::Verifier>,
}

impl SourceContext {
    /// Counts one ingested entry by source and outcome.
    pub fn count(&self, source: &str, outcome: &str) {
        self.metrics
            .ingested_events
            .get_or_create(&labels(&[("source", source), ("outcome", outcome)]))
            .inc();
    }
}
