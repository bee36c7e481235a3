//! Delivery to one target of one rule: its queue, its concurrency, its retries
//! and its dead letters.
//!
//! Each (rule, target) pair has a [`TargetHandle`]: its queue is the deliveries
//! waiting for one of its `targets.max_concurrency` slots (first come first
//! served), so a slow target drains at its own pace and never stalls the router
//! or other targets. A request's deliveries to one target share a task (each
//! still independent): attempt, and on a
//! retryable error wait (a timer, not a worker) for exponential backoff with full
//! jitter (at least the receiver's `Retry-After`) within the target's
//! `RetryPolicy`; errors retrying cannot fix, and retries that run out, go to the
//! dead-letter path. At the shutdown deadline everything still queued or waiting
//! to retry is settled as `ShutdownBeforeDelivery`; an attempt in progress ends
//! first (within its target's own timeout).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::{Semaphore, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::completion::{Completion, Outcome};
use super::dead_letter::{DeadLetter, DeadLetterRecord, Failure};
use crate::config::RetryConfig;
use crate::event::Event;
use crate::metrics::{Metrics, rule_target};
use crate::rules::{Destination, RetryPolicy};
use crate::targets::{Attempt, DeliveryError, Target};

/// One event's delivery to one target.
pub struct Delivery {
    pub event: Arc<Event>,
    pub payload: Bytes,
    pub completion: Completion,
}

/// What a handle was built from; a reload that leaves it equal keeps the handle
/// (its queue, connections and pending retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// In the spec so that a rule moved to another bus gets a new handle (its
    /// dead letters name the rule's current ARN).
    pub rule_arn: String,
    pub destination: Destination,
    pub retry_policy: RetryPolicy,
    pub dead_letter: Option<Destination>,
    /// False when the target or its dead-letter destination could not be set
    /// up: such a handle is rebuilt on every reload, so fixing the cause (a
    /// secret, a directory) and reloading recovers it.
    pub built: bool,
}

/// Counters of one (rule, target) pair.
struct TargetMetrics {
    invocations: Counter,
    failed: Counter,
    retries: Counter,
    throttled: Counter,
    latency: Histogram,
    queue_depth: Gauge,
}

struct Shared {
    rule_arn: String,
    target_id: String,
    target: Arc<dyn Target>,
    dead_letter: DeadLetter,
    policy: RetryPolicy,
    backoff: RetryConfig,
    metrics: TargetMetrics,
    shutdown: CancellationToken,
    /// Attempts in progress at once (`targets.max_concurrency`); deliveries
    /// wait their turn here, first come first served.
    slots: Arc<Semaphore>,
    /// Deliveries waiting for a slot: the target's queue.
    waiting: AtomicUsize,
    queue_size: usize,
    /// Deliveries this pair holds (queued, in progress or waiting to retry),
    /// at most `targets.max_pending`: each holds its event's admission place.
    pending: AtomicUsize,
    max_pending: usize,
    order: Arc<KeyOrder>,
}

/// The entrance to one (rule, target) pair's delivery.
pub struct TargetHandle {
    pub spec: TargetSpec,
    shared: Arc<Shared>,
}

/// How a handle is set up.
pub struct HandleSettings<'a> {
    pub rule_name: &'a str,
    pub rule_arn: &'a str,
    pub target_id: &'a str,
    pub queue_size: usize,
    pub max_pending: usize,
    pub max_concurrency: usize,
    pub backoff: RetryConfig,
    pub metrics: &'a Metrics,
    pub shutdown: CancellationToken,
}

impl TargetHandle {
    pub fn spawn(
        spec: TargetSpec,
        target: Arc<dyn Target>,
        dead_letter: Option<Arc<dyn Target>>,
        s: HandleSettings<'_>,
    ) -> Arc<TargetHandle> {
        let labels = rule_target(s.rule_name, s.target_id);
        let m = s.metrics;
        let shared = Arc::new(Shared {
            rule_arn: s.rule_arn.to_string(),
            target_id: s.target_id.to_string(),
            target,
            dead_letter: DeadLetter {
                target: dead_letter,
                sent: m.invocations_sent_to_dlq.get_or_create(&labels).clone(),
                failed: m
                    .invocations_failed_to_be_sent_to_dlq
                    .get_or_create(&labels)
                    .clone(),
            },
            policy: spec.retry_policy,
            backoff: s.backoff,
            metrics: TargetMetrics {
                invocations: m.invocations.get_or_create(&labels).clone(),
                failed: m.failed_invocations.get_or_create(&labels).clone(),
                retries: m.retry_invocation_attempts.get_or_create(&labels).clone(),
                throttled: m.throttled_rules.get_or_create(&labels).clone(),
                latency: m
                    .ingestion_to_invocation_latency
                    .get_or_create(&labels)
                    .clone(),
                queue_depth: m.target_queue_depth.get_or_create(&labels).clone(),
            },
            shutdown: s.shutdown,
            slots: Arc::new(Semaphore::new(s.max_concurrency)),
            waiting: AtomicUsize::new(0),
            queue_size: s.queue_size,
            pending: AtomicUsize::new(0),
            max_pending: s.max_pending,
            order: Arc::new(KeyOrder::default()),
        });
        Arc::new(TargetHandle { spec, shared })
    }

    /// Queues deliveries: a task waits for the target's slots (one task for all
    /// of them; each delivery still takes its own slot, retries and settles on
    /// its own), so the router never blocks on one slow target. Past
    /// `targets.queue_size` waiting deliveries each is counted in
    /// `ThrottledRules` (it still waits). Past `targets.max_pending` held
    /// deliveries (a target that is down holds every event it matched for as
    /// long as its retry policy allows) each further one is dead-lettered at
    /// once with `TargetBacklogFull`, so a dead target holds a bounded share of
    /// the router's in-flight places and never throttles ingest for the others.
    fn enqueue(&self, mut deliveries: Vec<Delivery>) {
        let shared = &self.shared;
        let held = shared
            .pending
            .fetch_add(deliveries.len(), Ordering::Relaxed);
        let room = shared.max_pending.saturating_sub(held);
        if deliveries.len() > room {
            let refused = deliveries.split_off(room);
            shared.pending.fetch_sub(refused.len(), Ordering::Relaxed);
            self.refuse(refused);
            if deliveries.is_empty() {
                return;
            }
        }
        let waiting = shared
            .waiting
            .fetch_add(deliveries.len(), Ordering::Relaxed);
        let over = (waiting + deliveries.len()).saturating_sub(shared.queue_size.max(waiting));
        if over > 0 {
            shared.metrics.throttled.inc_by(over as u64);
        }
        let runs = deliveries.into_iter().map(|delivery| {
            let span = tracing::debug_span!(
                "deliver",
                event_id = %delivery.event.id,
                rule_arn = %shared.rule_arn,
                target = %shared.target_id
            );
            // Taken here, in routing order, so the order holds whatever order
            // the tasks then run in.
            let turn = shared
                .target
                .ordering_key(&delivery.event, &delivery.payload)
                .map(|key| shared.order.turn(key));
            run(shared.clone(), delivery, turn).instrument(span)
        });
        let mut runs: Vec<_> = runs.collect();
        if runs.len() == 1 {
            tokio::spawn(runs.pop().expect("one"));
        } else {
            tokio::spawn(futures_util::future::join_all(runs));
        }
    }

    /// Dead-letters deliveries that find the pair's backlog full.
    fn refuse(&self, refused: Vec<Delivery>) {
        let shared = &self.shared;
        shared.metrics.throttled.inc_by(refused.len() as u64);
        for Delivery {
            event,
            payload,
            completion,
        } in refused
        {
            let failure = Failure {
                error_code: "TargetBacklogFull",
                error_message: format!(
                    "{} deliveries to this target are already queued, in progress or waiting \
                     to retry (targets.max_pending); not attempted",
                    shared.max_pending
                ),
                exhausted_retry_condition: None,
                retry_attempts: 0,
            };
            self.dead_letter_now(event, Some(payload), failure, completion);
        }
    }

    /// Settles a delivery that failed before it could be attempted (its input
    /// could not be shaped, its plugin failed): straight to the dead-letter
    /// path, with the payload that was to be sent or transformed, if any.
    pub fn dead_letter_now(
        &self,
        event: Arc<Event>,
        payload: Option<Bytes>,
        failure: Failure,
        completion: Completion,
    ) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            shared.metrics.failed.inc();
            shared
                .dead_letter(&event, payload.as_deref(), &failure, completion)
                .await;
        });
    }

    /// Deliveries waiting in the queue (for `/metrics`).
    pub fn update_queue_depth(&self) {
        let depth = self.shared.waiting.load(Ordering::Relaxed);
        self.shared.metrics.queue_depth.set(depth as i64);
    }
}

/// Attempts until delivered, dead-lettered, or cut off by shutdown. With a
/// `turn`, the first attempt waits until the same key's previous delivery is
/// settled, and this one's settling lets the next go.
async fn run(shared: Arc<Shared>, delivery: Delivery, mut turn: Option<Turn>) {
    let _pending = Held(shared.clone());
    let mut number: u32 = 0;
    let mut last: Option<DeliveryError> = None;
    if let Some(previous) = turn.as_mut().and_then(|t| t.after.take()) {
        tokio::select! {
            biased;
            _ = shared.shutdown.cancelled() => {
                shared.waiting.fetch_sub(1, Ordering::Relaxed);
                return shared.settle_at_shutdown(delivery, None, 0).await;
            }
            // A predecessor that went away without settling counts as settled.
            _ = previous => {}
        }
    }
    loop {
        // A free slot is taken at once; waiting for one also watches the
        // shutdown deadline (registering with the token only then).
        let held = match shared.slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(_) => tokio::select! {
                biased;
                _ = shared.shutdown.cancelled() => {
                    if number == 0 {
                        shared.waiting.fetch_sub(1, Ordering::Relaxed);
                    }
                    let retries = number.saturating_sub(1);
                    return shared.settle_at_shutdown(delivery, last.as_ref(), retries).await;
                }
                s = shared.slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            },
        };
        if number == 0 {
            shared.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        number += 1;
        shared.metrics.invocations.inc();
        if number > 1 {
            shared.metrics.retries.inc();
        }
        let attempt = Attempt {
            payload: &delivery.payload,
            event: &delivery.event,
            completion: &delivery.completion,
            number,
            dead_letter: None,
        };
        // An attempt in progress at the shutdown deadline is let finish (each
        // target bounds its own attempts, HTTP by its timeout): racing every
        // attempt against the token would cost a registration per delivery.
        // A target that panics fails this attempt, not the task: the task's
        // other deliveries would otherwise be dropped unsettled.
        let result = AssertUnwindSafe(shared.target.deliver(attempt))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Err(panicked(&*panic)));
        drop(held);
        let error = match result {
            Ok(()) => {
                tracing::debug!(attempt = number, "delivered");
                shared
                    .metrics
                    .latency
                    .observe(delivery.event.age().as_secs_f64());
                delivery.completion.finish(Outcome::Delivered);
                return;
            }
            Err(e) => e,
        };
        let retries_done = number - 1;
        let exhausted = if !error.retryable {
            None
        } else if retries_done >= shared.policy.maximum_retry_attempts {
            Some("MaximumRetryAttempts")
        } else {
            let wait = backoff_delay(&shared.backoff, number, error.retry_after);
            let max_age =
                Duration::from_secs(u64::from(shared.policy.maximum_event_age_in_seconds));
            if delivery.event.age().saturating_add(wait) > max_age {
                Some("MaximumEventAgeInSeconds")
            } else {
                tracing::debug!(
                    event_id = %delivery.event.id,
                    target = %shared.target_id,
                    attempt = number,
                    "delivery failed ({}: {}); retrying in {wait:?}",
                    error.code,
                    error.message
                );
                tokio::select! {
                    biased;
                    _ = shared.shutdown.cancelled() => {
                        return shared.settle_at_shutdown(delivery, Some(&error), retries_done).await;
                    }
                    _ = tokio::time::sleep(wait) => {
                        last = Some(error);
                        continue;
                    }
                }
            }
        };
        if error.retryable && exhausted.is_none() {
            continue;
        }
        shared.metrics.failed.inc();
        let failure = Failure {
            error_code: error.code,
            error_message: error.message,
            exhausted_retry_condition: exhausted,
            retry_attempts: retries_done,
        };
        let Delivery {
            event,
            payload,
            completion,
        } = delivery;
        shared
            .dead_letter(&event, Some(&payload), &failure, completion)
            .await;
        return;
    }
}

/// Gives back a delivery's place in its pair's `max_pending` when it settles.
struct Held(Arc<Shared>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The failure of an attempt whose target panicked (a bug): not retried.
fn panicked(panic: &(dyn std::any::Any + Send)) -> DeliveryError {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    tracing::error!("a delivery attempt panicked: {what}");
    DeliveryError::permanent(
        "InternalError",
        format!("the target failed unexpectedly (a switchyard bug): {what}"),
    )
}

/// Hands each delivery to its target's handle, one task per target.
pub fn dispatch(mut deliveries: Vec<(Arc<TargetHandle>, Delivery)>) {
    deliveries.sort_by_key(|(h, _)| Arc::as_ptr(h) as usize);
    let mut deliveries = deliveries.into_iter().peekable();
    while let Some((handle, first)) = deliveries.next() {
        let mut same = vec![first];
        while let Some((_, d)) = deliveries.next_if(|(h, _)| Arc::ptr_eq(h, &handle)) {
            same.push(d);
        }
        handle.enqueue(same);
    }
}

/// Per-key order for targets that ask for it (`Kafka` with `Ordered`): each
/// key's deliveries form a chain in routing order, where each waits for the one
/// before to be settled (delivered or dead-lettered), retries included. The
/// cost: a map entry per key with a delivery in flight and a oneshot channel per
/// delivery; a retrying delivery holds back its own key's successors only.
#[derive(Default)]
pub struct KeyOrder {
    next: AtomicU64,
    /// The latest delivery of each key still in flight: its id, and what fires
    /// when it is settled.
    latest: std::sync::Mutex<HashMap<Vec<u8>, Latest>>,
}

/// A key's latest delivery: its id, and what fires when it is settled.
type Latest = (u64, oneshot::Receiver<()>);

impl KeyOrder {
    fn turn(self: &Arc<Self>, key: Vec<u8>) -> Turn {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (settled, next_waits) = oneshot::channel();
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let after = latest
            .insert(key.clone(), (id, next_waits))
            .map(|(_, rx)| rx);
        Turn {
            after,
            settled: Some(settled),
            order: self.clone(),
            key,
            id,
        }
    }
}

/// One delivery's place in its key's chain; dropping it (when the delivery is
/// settled, whichever way) lets the next one go.
pub struct Turn {
    after: Option<oneshot::Receiver<()>>,
    settled: Option<oneshot::Sender<()>>,
    order: Arc<KeyOrder>,
    key: Vec<u8>,
    id: u64,
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut latest = self.order.latest.lock().unwrap_or_else(|e| e.into_inner());
        if latest.get(&self.key).is_some_and(|(id, _)| *id == self.id) {
            latest.remove(&self.key);
        }
        drop(latest);
        if let Some(settled) = self.settled.take() {
            let _ = settled.send(());
        }
    }
}

/// Full jitter: uniform in [0, min(cap, base * 2^(n-1))] after attempt n, and at
/// least the receiver's `Retry-After`.
fn backoff_delay(cfg: &RetryConfig, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exp = attempt.saturating_sub(1).min(30);
    let ceiling = cfg
        .base_delay_ms
        .saturating_mul(1u64 << exp)
        .min(cfg.max_delay_ms);
    let jittered = Duration::from_millis(fastrand::u64(0..=ceiling));
    jittered.max(retry_after.unwrap_or_default())
}

impl Shared {
    async fn dead_letter(
        &self,
        event: &Arc<Event>,
        payload: Option<&[u8]>,
        failure: &Failure,
        completion: Completion,
    ) {
        let record = DeadLetterRecord {
            event,
            payload,
            rule_arn: Some(&self.rule_arn),
            target_id: Some(&self.target_id),
            failure,
        };
        self.dead_letter.settle(record, completion).await;
    }

    /// The shutdown deadline passed before this delivery finished: it goes to the
    /// dead-letter destination when there is one; otherwise it is logged with its
    /// event id and left `Abandoned`, so a Kafka source re-delivers it.
    async fn settle_at_shutdown(
        &self,
        delivery: Delivery,
        last: Option<&DeliveryError>,
        retry_attempts: u32,
    ) {
        let message = match last {
            Some(e) => format!(
                "the server shut down before the delivery succeeded (last error {}: {})",
                e.code, e.message
            ),
            None => "the server shut down before the delivery was attempted or finished".into(),
        };
        if self.dead_letter.target.is_none() {
            tracing::error!(
                event_id = %delivery.event.id,
                rule_arn = %self.rule_arn,
                target = %self.target_id,
                "not delivered: {message}"
            );
            drop(delivery.completion); // Abandoned
            return;
        }
        let failure = Failure {
            error_code: "ShutdownBeforeDelivery",
            error_message: message,
            exhausted_retry_condition: None,
            retry_attempts,
        };
        self.dead_letter(
            &delivery.event,
            Some(&delivery.payload),
            &failure,
            delivery.completion,
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::BoxFuture;
    use std::sync::Mutex;
    use std::time::{Instant, SystemTime};

    struct Panics;

    impl Target for Panics {
        fn deliver<'a>(&'a self, _: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
            Box::pin(async { panic!("index out of bounds") })
        }
    }

    /// A dead-letter destination that keeps what it is sent.
    #[derive(Default)]
    struct Keeps(Mutex<Vec<String>>);

    impl Target for Keeps {
        fn deliver<'a>(&'a self, a: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
            let line = String::from_utf8_lossy(a.payload).into_owned();
            self.0.lock().unwrap().push(line);
            Box::pin(async { Ok(()) })
        }
    }

    fn event(n: u32) -> Arc<Event> {
        Arc::new(Event {
            id: format!("e{n}"),
            bus: "default".into(),
            source: "app".into(),
            detail_type: "t".into(),
            json: Bytes::from_static(b"{}"),
            received: SystemTime::now(),
            received_at: Instant::now(),
            hops: 0,
        })
    }

    #[tokio::test]
    async fn a_target_that_panics_fails_its_attempts_into_the_dead_letter_path() {
        let dlq = Arc::new(Keeps::default());
        let metrics = Metrics::new();
        let spec = TargetSpec {
            rule_arn: "arn:r".into(),
            destination: Destination::Stdout,
            retry_policy: RetryPolicy::default(),
            dead_letter: None,
            built: true,
        };
        let handle = TargetHandle::spawn(
            spec,
            Arc::new(Panics),
            Some(dlq.clone()),
            HandleSettings {
                rule_name: "r",
                rule_arn: "arn:r",
                target_id: "t",
                queue_size: 8,
                max_pending: 8,
                max_concurrency: 2,
                backoff: RetryConfig::default(),
                metrics: &metrics,
                shutdown: CancellationToken::new(),
            },
        );
        let mut waits = Vec::new();
        let deliveries = (0..3)
            .map(|n| {
                let (completion, rx) = Completion::new(None);
                waits.push(rx);
                Delivery {
                    event: event(n),
                    payload: Bytes::from_static(b"{}"),
                    completion,
                }
            })
            .collect();
        handle.enqueue(deliveries);
        for rx in waits {
            assert_eq!(
                rx.await.unwrap(),
                Outcome::DeadLettered,
                "settled, not abandoned"
            );
        }
        let records = dlq.0.lock().unwrap();
        assert_eq!(records.len(), 3);
        for r in records.iter() {
            let r: serde_json::Value = serde_json::from_str(r).unwrap();
            assert_eq!(r["attributes"]["ERROR_CODE"], "InternalError");
            assert_eq!(
                r["attributes"]["ERROR_MESSAGE"],
                "the target failed unexpectedly (a switchyard bug): index out of bounds"
            );
        }
        assert_eq!(
            handle.shared.pending.load(Ordering::Relaxed),
            0,
            "places given back"
        );
    }

    #[test]
    fn a_keys_deliveries_take_turns_in_routing_order_and_other_keys_do_not_wait() {
        let order = Arc::new(KeyOrder::default());
        let first = order.turn(b"a".to_vec());
        let mut second = order.turn(b"a".to_vec());
        let mut third = order.turn(b"a".to_vec());
        let mut other = order.turn(b"b".to_vec());
        assert!(
            first.after.is_none() && other.after.is_none(),
            "nothing before them"
        );
        let mut after_first = second.after.take().unwrap();
        let mut after_second = third.after.take().unwrap();
        assert!(
            after_first.try_recv().is_err(),
            "the first is still in flight"
        );
        drop(first);
        assert!(
            after_first.try_recv().is_ok(),
            "settling the first lets the second go"
        );
        assert!(after_second.try_recv().is_err(), "but not the third");
        drop(second);
        assert!(after_second.try_recv().is_ok());
        drop((third, other.after.take()));
        drop(other);
        assert!(
            order.latest.lock().unwrap().is_empty(),
            "no entry outlives its key's work"
        );
    }

    #[test]
    fn backoff_is_full_jitter_under_a_growing_cap() {
        let cfg = RetryConfig {
            base_delay_ms: 100,
            max_delay_ms: 1_000,
        };
        let max_of = |attempt| {
            (0..2_000)
                .map(|_| backoff_delay(&cfg, attempt, None))
                .max()
                .unwrap()
        };
        let min_of = |attempt| {
            (0..2_000)
                .map(|_| backoff_delay(&cfg, attempt, None))
                .min()
                .unwrap()
        };
        assert!(max_of(1) <= Duration::from_millis(100));
        assert!(
            max_of(1) > Duration::from_millis(80),
            "jitter spans the range"
        );
        assert!(
            min_of(1) < Duration::from_millis(20),
            "full jitter starts at 0"
        );
        assert!(max_of(3) <= Duration::from_millis(400) && max_of(3) > Duration::from_millis(300));
        assert!(max_of(20) <= Duration::from_millis(1_000));
        let honoured = backoff_delay(&cfg, 1, Some(Duration::from_secs(3)));
        assert_eq!(
            honoured,
            Duration::from_secs(3),
            "Retry-After is the least wait"
        );
    }
}
