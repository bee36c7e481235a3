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
pub mod durable;
pub mod kafka;
pub mod put_events;
pub mod rules_api;
pub mod sigv4;

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::Config;
use prometheus_client::metrics::counter::Counter;

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
    /// With durable ingest, accepted events go to Kafka, not to the router.
    pub durable: Option<durable::DurableIngest>,
    /// `switchyard_ingested_events_total` by (source, outcome), looked up once.
    counters: Vec<((&'static str, &'static str), Counter)>,
}

const SOURCES: &[&str] = &["put_events", "cloudevents"];
const OUTCOMES: &[&str] = &[
    "accepted",
    "invalid",
    "throttled",
    "unavailable",
    "too_large",
];

impl SourceContext {
    pub fn new(
        ingest: Ingest,
        routes: Arc<ArcSwap<Routes>>,
        config: Arc<Config>,
        metrics: Arc<Metrics>,
        rules_dir: PathBuf,
        sigv4: Option<sigv4::Verifier>,
    ) -> SourceContext {
        let counters = SOURCES
            .iter()
            .flat_map(|&s| OUTCOMES.iter().map(move |&o| (s, o)))
            .map(|(s, o)| {
                let c = metrics
                    .ingested_events
                    .get_or_create(&labels(&[("source", s), ("outcome", o)]))
                    .clone();
                ((s, o), c)
            })
            .collect();
        SourceContext {
            ingest,
            routes,
            config,
            metrics,
            rules_dir,
            sigv4,
            durable: None,
            counters,
        }
    }

    /// Hands accepted events on: to the durable ingest topic, answering which
    /// could not be appended (by index), or to the router.
    pub fn hand_on(
        &self,
        events: Vec<(
            Arc<crate::event::Event>,
            crate::router::completion::Completion,
        )>,
    ) -> Vec<(usize, String)> {
        let Some(durable) = &self.durable else {
            self.ingest.submit_all(events);
            return Vec::new();
        };
        let only: Vec<_> = events.iter().map(|(e, _)| e.clone()).collect();
        let results = durable.append(&only);
        // The completions end here: the events' work is the Kafka source's now.
        for (_, completion) in events {
            completion.finish(crate::router::completion::Outcome::Delivered);
        }
        results
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| r.err().map(|e| (i, e)))
            .collect()
    }

    /// Counts one ingested entry by source and outcome (from the lists above,
    /// so the hot path allocates no label set).
    pub fn count(&self, source: &str, outcome: &str) {
        if let Some((_, c)) = self
            .counters
            .iter()
            .find(|((s, o), _)| *s == source && *o == outcome)
        {
            c.inc();
        }
    }
}
