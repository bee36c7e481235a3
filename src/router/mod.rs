//! The stages between sources and targets: admission, matching against the
//! current snapshot, input shaping, and fan-out to each matched rule's targets.
//!
//! - [`Ingest`] is the entrance every source (and the `EventBus` target) uses: it
//!   admits an event only while the in-flight bound has room, so overload becomes
//!   a throttling answer, never unbounded memory.
//! - Routing runs on the thread that submits the event (no queue and no task
//!   hand-off before it: matching is a microsecond of CPU): match once against
//!   one snapshot (`RuleSet::matching_indexes_checked`: the envelope was
//!   validated at ingest), shape each matched target's input and queue a
//!   [`delivery::Delivery`] on that target's queue. An event the matcher
//!   refuses goes to the router's dead-letter destination with the reason.
//! - A target with a `Transform` hands its shaped payload to the
//!   `transform_stage`, which runs the Wasm plugin on its own threads and queues
//!   the plugin's outputs as deliveries.
//! - `delivery` owns per-target queues, retries and dead letters; `routes` the
//!   route table per snapshot; `completion` the end-to-end acknowledgement.

pub mod completion;
pub mod dead_letter;
pub mod delivery;
pub mod routes;
pub mod transform_stage;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::event::{Event, format_time};
use crate::metrics::{Metrics, labels};
use crate::pattern::EventLimits;
use crate::targets::Target;
use crate::transform::input::{EventView, ShapeContext};
use completion::{Completion, Outcome};
use dead_letter::{DeadLetter, DeadLetterRecord, Failure};
use delivery::{Delivery, TargetHandle};
use routes::{PluginRoute, Routes};
use transform_stage::{TransformItem, TransformStage};

/// Why an event was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The in-flight bound is reached: try again later.
    Throttled,
    /// The server is shutting down.
    Unavailable,
}

struct IngestInner {
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    accepting: AtomicBool,
    max_hops: u32,
    limits: EventLimits,
    routes: Arc<ArcSwap<Routes>>,
    metrics: Arc<Metrics>,
    /// Where events the router cannot route go; set once at startup (it is built
    /// by the target factory, which itself needs this entrance).
    dead_letter: DeadLetter,
    dead_letter_target: OnceLock<Arc<dyn Target>>,
    /// Started with the first event that needs a plugin.
    transform_stage: OnceLock<TransformStage>,
    transform_threads: usize,
}

/// The router's entrance, cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    inner: Arc<IngestInner>,
}

impl Ingest {
    /// Reserves room for one event in the in-flight bound. Hold the permit in the
    /// event's [`Completion`]; it is released when the event's work is done.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, Refused> {
        if !self.accepting() {
            return Err(Refused::Unavailable);
        }
        self.inner
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Throttled)
    }

    /// Routes an admitted event (or one forwarded between buses, which holds its
    /// original's admission): matched on the current snapshot and queued on each
    /// matched target, on the caller's thread. Admission is the only gate, so
    /// this cannot fail, and it never waits: deliveries wait for their targets
    /// on their own.
    pub fn submit(&self, event: Arc<Event>, completion: Completion) {
        self.submit_all(vec![(event, completion)]);
    }

    /// Routes several admitted events (one request) on one snapshot. Deliveries
    /// to the same target share one task, so a request costs a task per target
    /// rather than per event.
    pub fn submit_all(&self, events: Vec<(Arc<Event>, Completion)>) {
        let inner = &*self.inner;
        let routes = inner.routes.load();
        let mut out = Routed::default();
        for (event, completion) in events {
            route(&routes, event, completion, &inner.metrics, &mut out, || {
                DeadLetter {
                    target: inner.dead_letter_target.get().cloned(),
                    ..inner.dead_letter.clone()
                }
            });
        }
        delivery::dispatch(out.deliveries);
        if !out.transforms.is_empty() {
            inner
                .transform_stage
                .get_or_init(|| {
                    TransformStage::start(
                        inner.transform_threads,
                        tokio::runtime::Handle::current(),
                    )
                })
                .submit(out.transforms);
        }
    }

    /// Sets the router's dead-letter destination (once, at startup).
    pub fn set_dead_letter(&self, target: Arc<dyn Target>) {
        let _ = self.inner.dead_letter_target.set(target);
    }

    pub fn accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Events accepted and not finished.
    pub fn in_flight(&self) -> usize {
        self.inner.max_in_flight - self.inner.in_flight.available_permits()
    }

    pub fn max_hops(&self) -> u32 {
        self.inner.max_hops
    }

    pub fn event_limits(&self) -> EventLimits {
        self.inner.limits
    }

    /// Stops accepting new events (ingest answers 503 from now on); events
    /// forwarded between buses are still routed, so accepted work can finish.
    pub fn stop_accepting(&self) {
        self.inner.accepting.store(false, Ordering::Release);
    }
}

/// Sizes of the router stage.
pub struct RouterSettings {
    pub max_in_flight: usize,
    pub max_hops: u32,
    pub limits: EventLimits,
    /// Threads of the transform stage (Wasm plugins).
    pub transform_threads: usize,
}

impl Ingest {
    /// The router for a running server: `routes` is swapped on every reload;
    /// `dead_letter` receives what the matcher refuses.
    pub fn new(
        settings: RouterSettings,
        metrics: Arc<Metrics>,
        routes: Arc<ArcSwap<Routes>>,
    ) -> Ingest {
        let unlabelled = labels(&[("rule", ""), ("target", "")]);
        let dead_letter = DeadLetter {
            target: None,
            sent: metrics
                .invocations_sent_to_dlq
                .get_or_create(&unlabelled)
                .clone(),
            failed: metrics
                .invocations_failed_to_be_sent_to_dlq
                .get_or_create(&unlabelled)
                .clone(),
        };
        Ingest {
            inner: Arc::new(IngestInner {
                in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
                max_in_flight: settings.max_in_flight,
                accepting: AtomicBool::new(true),
                max_hops: settings.max_hops,
                limits: settings.limits,
                routes,
                metrics,
                dead_letter,
                dead_letter_target: OnceLock::new(),
                transform_stage: OnceLock::new(),
                transform_threads: settings.transform_threads,
            }),
        }
    }
}

/// What routing a request produced: deliveries to queue now, and plugin work
/// for the transform stage.
#[derive(Default)]
struct Routed {
    deliveries: Vec<(Arc<TargetHandle>, Delivery)>,
    transforms: Vec<TransformItem>,
}

/// Matches one event on one snapshot and collects its deliveries.
fn route(
    routes: &Routes,
    event: Arc<Event>,
    completion: Completion,
    metrics: &Metrics,
    out: &mut Routed,
    dead_letter: impl FnOnce() -> DeadLetter,
) {
    let _span = tracing::debug_span!("route", event_id = %event.id, bus = %event.bus).entered();
    let matched = match routes
        .rules
        .matching_indexes_checked(&event.bus, &event.checked())
    {
        Ok(m) => m,
        Err(e) => {
            metrics
                .router_errors
                .get_or_create(&labels(&[("reason", "MatcherRefused")]))
                .inc();
            let failure = Failure::now("MatcherRefused", e.to_string());
            let dead_letter = dead_letter();
            tokio::spawn(async move {
                let record = DeadLetterRecord {
                    event: &event,
                    payload: None,
                    rule_arn: None,
                    target_id: None,
                    failure: &failure,
                };
                dead_letter.settle(record, completion).await;
            });
            return;
        }
    };
    if matched.is_empty() && !routes.rules.has_bus(&event.bus) {
        metrics
            .events_without_rules
            .get_or_create(&labels(&[("bus", &event.bus)]))
            .inc();
    }
    let view = EventView::new(&event.json);
    let mut ingestion_time: Option<String> = None;
    for index in matched {
        let rule = &routes.by_rule[index];
        rule.matched.inc();
        tracing::debug!(rule = %rule.rule.name, "matched");
        for target in &rule.targets {
            let payload = if target.passes_event {
                Ok(event.json.clone())
            } else {
                let time = ingestion_time.get_or_insert_with(|| format_time(event.received));
                let ctx = ShapeContext {
                    rule_name: &rule.rule.name,
                    rule_arn: &rule.arn,
                    ingestion_time: time,
                };
                target.input.shape(&view, &ctx).map(Bytes::from)
            };
            match (payload, &target.plugin) {
                (Ok(payload), None) => out.deliveries.push((
                    target.handle.clone(),
                    Delivery {
                        event: event.clone(),
                        payload,
                        completion: completion.split(),
                    },
                )),
                (Ok(payload), Some(PluginRoute::Bound(binding))) => {
                    out.transforms.push(TransformItem {
                        binding: binding.clone(),
                        handle: target.handle.clone(),
                        event: event.clone(),
                        payload,
                        payload_is_event: target.passes_event,
                        completion: completion.split(),
                    })
                }
                (Ok(payload), Some(PluginRoute::Unavailable(why))) => {
                    target.handle.dead_letter_now(
                        event.clone(),
                        Some(payload),
                        Failure::now("PluginUnavailable", why.clone()),
                        completion.split(),
                    )
                }
                (Err(e), _) => target.handle.dead_letter_now(
                    event.clone(),
                    None,
                    Failure::now(e.code, e.message),
                    completion.split(),
                ),
            }
        }
    }
    completion.finish(Outcome::Delivered);
}
