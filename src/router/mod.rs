//! The stages between sources and targets: admission, the bounded router queue,
//! matching against the current snapshot, input shaping, and fan-out to each
//! matched rule's targets.
//!
//! - [`Ingest`] is the entrance every source (and the `EventBus` target) uses: it
//!   admits an event only while the in-flight bound has room and the queue is
//!   not full, so overload becomes a throttling answer, never unbounded memory.
//! - The router workers take accepted events, match each once against one
//!   snapshot (`RuleSet::matching_indexes_checked`: the envelope was validated at
//!   ingest), shape each matched target's input and queue a [`delivery::Delivery`]
//!   on that target's handle. An event the matcher refuses goes to the router's
//!   dead-letter destination with the reason.
//! - `delivery` owns per-target queues, retries and dead letters; `routes` the
//!   route table per snapshot; `completion` the end-to-end acknowledgement.

pub mod completion;
pub mod dead_letter;
pub mod delivery;
pub mod routes;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::event::{Event, format_time};
use crate::metrics::{Metrics, labels};
use crate::pattern::EventLimits;
use crate::transform::input::{EventView, ShapeContext};
use completion::{Completion, Outcome};
use dead_letter::{DeadLetter, DeadLetterRecord, Failure};
use delivery::Delivery;
use routes::Routes;

/// An accepted event on its way to the router workers.
pub struct Routed {
    pub event: Arc<Event>,
    pub completion: Completion,
}

/// Why an event was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The in-flight bound or the router queue is full: try again later.
    Throttled,
    /// The server is shutting down.
    Unavailable,
}

struct IngestInner {
    tx: async_channel::Sender<Routed>,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    accepting: AtomicBool,
    max_hops: u32,
    limits: EventLimits,
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
        if !self.inner.accepting.load(Ordering::Acquire) {
            return Err(Refused::Unavailable);
        }
        self.inner
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refused::Throttled)
    }

    /// Queues an admitted event without waiting (HTTP ingest).
    pub fn try_submit(&self, event: Arc<Event>, completion: Completion) -> Result<(), Refused> {
        self.inner
            .tx
            .try_send(Routed { event, completion })
            .map_err(|e| match e {
                async_channel::TrySendError::Full(_) => Refused::Throttled,
                async_channel::TrySendError::Closed(_) => Refused::Unavailable,
            })
    }

    /// Queues an event, waiting for room (forwarding between buses, which holds
    /// its original's admission).
    pub async fn submit(&self, event: Arc<Event>, completion: Completion) -> Result<(), Refused> {
        self.inner
            .tx
            .send(Routed { event, completion })
            .await
            .map_err(|_| Refused::Unavailable)
    }

    pub fn accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Events accepted and not finished.
    pub fn in_flight(&self) -> usize {
        self.inner.max_in_flight - self.inner.in_flight.available_permits()
    }

    pub fn queued(&self) -> usize {
        self.inner.tx.len()
    }

    pub fn max_hops(&self) -> u32 {
        self.inner.max_hops
    }

    pub fn event_limits(&self) -> EventLimits {
        self.inner.limits
    }
}

/// Sizes of the router stage.
pub struct RouterSettings {
    pub queue_size: usize,
    pub max_in_flight: usize,
    pub workers: usize,
    pub max_hops: u32,
    pub limits: EventLimits,
}

/// The running router: its entrance and its workers' shared state.
pub struct Router {
    ingest: Ingest,
    rx: async_channel::Receiver<Routed>,
    routes: Arc<ArcSwap<Routes>>,
    metrics: Arc<Metrics>,
    dead_letter: Arc<DeadLetter>,
    workers: usize,
}

impl Router {
    pub fn new(
        settings: RouterSettings,
        metrics: Arc<Metrics>,
        routes: Arc<ArcSwap<Routes>>,
    ) -> Router {
        let (tx, rx) = async_channel::bounded(settings.queue_size);
        let dead_letter = Arc::new(DeadLetter {
            target: None,
            sent: metrics
                .invocations_sent_to_dlq
                .get_or_create(&labels(&[("rule", ""), ("target", "")]))
                .clone(),
            failed: metrics
                .invocations_failed_to_be_sent_to_dlq
                .get_or_create(&labels(&[("rule", ""), ("target", "")]))
                .clone(),
        });
        Router {
            ingest: Ingest {
                inner: Arc::new(IngestInner {
                    tx,
                    in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
                    max_in_flight: settings.max_in_flight,
                    accepting: AtomicBool::new(true),
                    max_hops: settings.max_hops,
                    limits: settings.limits,
                }),
            },
            rx,
            routes,
            metrics,
            dead_letter,
            workers: settings.workers.max(1),
        }
    }

    pub fn ingest(&self) -> Ingest {
        self.ingest.clone()
    }

    /// Where events the router cannot route are written (set before `start`).
    pub fn set_dead_letter(&mut self, target: Option<Arc<dyn crate::targets::Target>>) {
        if let Some(dl) = Arc::get_mut(&mut self.dead_letter) {
            dl.target = target;
        }
    }

    /// Starts the workers. At the shutdown deadline they stop taking events and
    /// settle whatever is still queued.
    pub fn start(&self, shutdown: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        (0..self.workers)
            .map(|_| {
                let rx = self.rx.clone();
                let routes = self.routes.clone();
                let metrics = self.metrics.clone();
                let dead_letter = self.dead_letter.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let cancelled = shutdown.cancelled_owned();
                    tokio::pin!(cancelled);
                    loop {
                        let routed = tokio::select! {
                            biased;
                            _ = &mut cancelled => break,
                            next = rx.recv() => match next {
                                Ok(r) => r,
                                Err(_) => return,
                            },
                        };
                        route(&routes.load(), routed, &metrics, &dead_letter);
                    }
                    while let Ok(Routed { event, completion }) = rx.try_recv() {
                        let failure = Failure {
                            error_code: "ShutdownBeforeRouting",
                            error_message: "the server shut down before the event was matched"
                                .into(),
                            exhausted_retry_condition: None,
                            retry_attempts: 0,
                        };
                        if dead_letter.target.is_none() {
                            // Left Abandoned: a Kafka source re-delivers it.
                            tracing::error!(event_id = %event.id, "not routed: the server shut down before the event was matched");
                            drop(completion);
                            continue;
                        }
                        settle_unrouted(&dead_letter, &event, failure, completion).await;
                    }
                })
            })
            .collect()
    }

    /// Stops accepting new events (ingest answers 503 from now on).
    pub fn stop_accepting(&self) {
        self.ingest.inner.accepting.store(false, Ordering::Release);
    }
}

/// Matches one event on one snapshot and fans it out.
fn route(routes: &Routes, routed: Routed, metrics: &Metrics, dead_letter: &Arc<DeadLetter>) {
    let Routed { event, completion } = routed;
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
            let failure = Failure {
                error_code: "MatcherRefused",
                error_message: e.to_string(),
                exhausted_retry_condition: None,
                retry_attempts: 0,
            };
            let dead_letter = dead_letter.clone();
            tokio::spawn(async move {
                settle_unrouted(&dead_letter, &event, failure, completion).await;
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
            match payload {
                Ok(payload) => target.handle.enqueue(Delivery {
                    event: event.clone(),
                    payload,
                    completion: completion.split(),
                }),
                Err(e) => target.handle.dead_letter_now(
                    event.clone(),
                    Failure {
                        error_code: e.code,
                        error_message: e.message,
                        exhausted_retry_condition: None,
                        retry_attempts: 0,
                    },
                    completion.split(),
                ),
            }
        }
    }
    completion.finish(Outcome::Delivered);
}

async fn settle_unrouted(
    dead_letter: &DeadLetter,
    event: &Arc<Event>,
    failure: Failure,
    completion: Completion,
) {
    let record = DeadLetterRecord {
        event,
        payload: None,
        rule_arn: None,
        target_id: None,
        failure: &failure,
    };
    dead_letter.settle(record, completion).await;
}
