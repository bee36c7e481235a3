//! The Kafka source: topics consumed as one consumer group, each message routed
//! as an event, and its offset committed only once every target it matched has
//! delivered it or dead-lettered it (at-least-once).
//!
//! It owns turning a message into an [`Event`] (an EventBridge envelope is
//! routed as is; any other JSON object is wrapped in one with the configured
//! `source` and `detail-type` and a last `kafka` key holding topic, partition,
//! offset, key, headers and timestamp), sending messages that cannot be events
//! to the dead-letter topic, and the commit discipline:
//!
//! - Each partition has an [`OffsetTracker`]: the offsets in flight and the
//!   next offset to read. The commit position is the lowest unfinished offset,
//!   so commits go in order even when deliveries finish out of order, and a
//!   message whose work was `Abandoned` (lost at a shutdown cut-off) holds its
//!   partition's commit back, so it is consumed again after a restart.
//! - Backpressure per partition: past `max_in_flight_per_partition` unfinished
//!   messages the partition is paused, and resumed once half have finished; the
//!   router's own in-flight bound makes the consumer wait for admission.
//! - A rebalance that revokes partitions commits what is finished of them and
//!   forgets them; their work still in flight finishes, but no longer commits
//!   (the new owner consumes from the committed offset: at-least-once).
//!
//! It does not route or deliver (`router`), or produce to targets
//! (`targets::kafka`, whose producer it borrows for dead letters).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, KafkaSourceConfig};
use crate::event::{self, EnvelopeFields, Event, build_envelope};
use crate::metrics::{Metrics, labels};
use crate::pattern::{CheckedEvent, EventError, EventLimits};
use crate::router::Ingest;
use crate::router::completion::{Completion, Outcome};
use crate::targets::kafka::KafkaProducer;

type Partition = (String, i32);

/// What is in flight on one partition.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    in_flight: BTreeSet<i64>,
    /// One past the highest offset read.
    next: Option<i64>,
    committed: Option<i64>,
    paused: bool,
}

impl OffsetTracker {
    pub fn begin(&mut self, offset: i64) {
        self.in_flight.insert(offset);
        self.next = Some(self.next.map_or(offset + 1, |n| n.max(offset + 1)));
    }

    pub fn finish(&mut self, offset: i64) {
        self.in_flight.remove(&offset);
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The offset to commit (the next one to read after a restart): the lowest
    /// unfinished, else one past the highest read; `None` before any message.
    pub fn commit_position(&self) -> Option<i64> {
        self.in_flight.first().copied().or(self.next)
    }

    /// The position to commit if it moved since the last commit.
    fn take_commit(&mut self) -> Option<i64> {
        let position = self.commit_position()?;
        (self.committed != Some(position)).then(|| {
            self.committed = Some(position);
            position
        })
    }
}

/// The trackers of the partitions this instance owns; a partition is dropped
/// when revoked and made fresh when assigned (`generation` tells late
/// completions of an earlier assignment apart).
#[derive(Default)]
struct Owned {
    partitions: HashMap<Partition, (u64, OffsetTracker)>,
    generation: u64,
}

struct SourceContext {
    owned: Arc<Mutex<Owned>>,
}

impl ClientContext for SourceContext {}

impl ConsumerContext for SourceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else {
            return;
        };
        let mut owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
        let mut commit = TopicPartitionList::new();
        for elem in revoked.elements() {
            let key = (elem.topic().to_string(), elem.partition());
            if let Some((_, tracker)) = owned.partitions.remove(&key) {
                if tracker.in_flight() > 0 {
                    tracing::info!(topic = %key.0, partition = key.1, in_flight = tracker.in_flight(),
                        "partition revoked with work in flight: it finishes, and the new owner reads it again");
                }
                if let Some(position) = tracker.commit_position() {
                    let _ = commit.add_partition_offset(&key.0, key.1, Offset::Offset(position));
                }
            }
        }
        if commit.count() > 0
            && let Err(e) = consumer.commit(&commit, CommitMode::Sync)
        {
            tracing::warn!("committing revoked partitions: {e}");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(assigned) = rebalance {
            let mut owned = self.owned.lock().unwrap_or_else(|e| e.into_inner());
            owned.generation += 1;
            let generation = owned.generation;
            for elem in assigned.elements() {
                let key = (elem.topic().to_string(), elem.partition());
                owned
                    .partitions
                    .entry(key)
                    .or_insert_with(|| (generation, OffsetTracker::default()));
            }
            tracing::info!(partitions = assigned.count(), "Kafka partitions assigned");
        }
    }
}

/// Settings the source reads from the whole config.
pub struct KafkaSourceSettings {
    pub source: KafkaSourceConfig,
    pub brokers: String,
    pub consumer: std::collections::BTreeMap<String, String>,
    pub account: String,
    pub region: String,
    pub limits: EventLimits,
}

impl KafkaSourceSettings {
    /// `None` when the config names no source topics.
    pub fn from_config(config: &Config) -> Option<KafkaSourceSettings> {
        let k = &config.kafka;
        let mut source = k.source.clone();
        // The durable ingest topic is routed like any source topic.
        if let Some(topic) = &k.ingest.topic
            && !source.topics.contains(topic)
        {
            source.topics.push(topic.clone());
        }
        if source.topics.is_empty() {
            return None;
        }
        Some(KafkaSourceSettings {
            source,
            brokers: k.brokers.clone().unwrap_or_default(),
            consumer: k.consumer.clone(),
            account: config.server.account.clone(),
            region: config.server.region.clone(),
            limits: config.limits.detail_limits(),
        })
    }
}

/// A running source: `stop_consuming` at shutdown, then `finish` once the
/// router has drained.
pub struct KafkaSource {
    consumer: Arc<StreamConsumer<SourceContext>>,
    owned: Arc<Mutex<Owned>>,
    consume: tokio::task::JoinHandle<()>,
    commit: tokio::task::JoinHandle<()>,
    stop_consume: CancellationToken,
    stop_commit: CancellationToken,
}

impl KafkaSource {
    pub fn start(
        settings: KafkaSourceSettings,
        ingest: Ingest,
        dead_letters: Option<Arc<KafkaProducer>>,
        metrics: Arc<Metrics>,
    ) -> Result<KafkaSource, String> {
        let s = &settings.source;
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", &settings.brokers)
            .set("group.id", &s.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            // A new group settles in about half the session timeout.
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .set("client.id", "switchyard");
        for (key, value) in &settings.consumer {
            client.set(key, value);
        }
        let owned = Arc::new(Mutex::new(Owned::default()));
        let consumer: StreamConsumer<SourceContext> = client
            .create_with_context(SourceContext {
                owned: owned.clone(),
            })
            .map_err(|e| format!("cannot create the Kafka consumer: {e}"))?;
        let topics: Vec<&str> = s.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|e| format!("cannot subscribe to Kafka topics {topics:?}: {e}"))?;
        let consumer = Arc::new(consumer);
        let (stop_consume, stop_commit) = (CancellationToken::new(), CancellationToken::new());
        tracing::info!(topics = ?s.topics, group = %s.group, "consuming Kafka topics");
        let settings = Arc::new(settings);
        let consume = tokio::spawn(consume_loop(
            consumer.clone(),
            owned.clone(),
            settings.clone(),
            ingest,
            dead_letters,
            metrics,
            stop_consume.clone(),
        ));
        let commit = tokio::spawn(commit_loop(
            consumer.clone(),
            owned.clone(),
            settings.clone(),
            stop_commit.clone(),
        ));
        Ok(KafkaSource {
            consumer,
            owned,
            consume,
            commit,
            stop_consume,
            stop_commit,
        })
    }

    /// Reads no more messages (work already routed carries on, and its offsets
    /// keep being committed).
    pub async fn stop_consuming(&mut self) {
        self.stop_consume.cancel();
        let _ = (&mut self.consume).await;
    }

    /// Commits what has finished, a last time (waiting at most 3 s: the broker
    /// may be gone), and stops.
    pub async fn finish(self) {
        self.stop_commit.cancel();
        let _ = self.commit.await;
        let (consumer, owned) = (self.consumer, self.owned);
        let last = tokio::task::spawn_blocking(move || {
            commit_finished(&consumer, &owned, CommitMode::Sync);
            // Closing the consumer (leaving the group) happens here too.
            drop(consumer);
        });
        if tokio::time::timeout(Duration::from_secs(3), last)
            .await
            .is_err()
        {
            tracing::warn!(
                "the last Kafka commit did not finish within 3 s (is the broker reachable?); \
                 what it did not commit is read again after a restart"
            );
        }
    }
}

async fn consume_loop(
    consumer: Arc<StreamConsumer<SourceContext>>,
    owned: Arc<Mutex<Owned>>,
    settings: Arc<KafkaSourceSettings>,
    ingest: Ingest,
    dead_letters: Option<Arc<KafkaProducer>>,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
) {
    let accepted = metrics
        .ingested_events
        .get_or_create(&labels(&[("source", "kafka"), ("outcome", "accepted")]))
        .clone();
    let invalid = metrics
        .ingested_events
        .get_or_create(&labels(&[("source", "kafka"), ("outcome", "invalid")]))
        .clone();
    loop {
        let message = tokio::select! {
            _ = stop.cancelled() => return,
            m = consumer.recv() => m,
        };
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                // librdkafka reconnects by itself; one line a second while it does.
                tracing::warn!("consuming from Kafka: {e}");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
        };
        let partition: Partition = (message.topic().to_string(), message.partition());
        let offset = message.offset();
        let Some(generation) = begin(&owned, &partition, offset) else {
            // Not (or no longer) ours: a message fetched before a revocation.
            continue;
        };
        match decode(&message, &settings) {
            Ok(event) => {
                // Wait for room in the router rather than drop or buffer.
                let permit = loop {
                    match ingest.admit() {
                        Ok(p) => break p,
                        Err(crate::router::Refused::Unavailable) => return,
                        Err(crate::router::Refused::Throttled) => tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                        },
                    }
                };
                accepted.inc();
                let (completion, done) = Completion::new(Some(permit));
                ingest.submit(Arc::new(event), completion);
                let owned = owned.clone();
                let partition = partition.clone();
                tokio::spawn(async move {
                    let outcome = done.await.unwrap_or(Outcome::Abandoned);
                    if outcome.is_settled() {
                        finish(&owned, &partition, generation, offset);
                    } else {
                        tracing::warn!(topic = %partition.0, partition = partition.1, offset,
                            "the message's work was abandoned: its offset is not committed, so it is read again");
                    }
                });
            }
            Err((code, why)) => {
                invalid.inc();
                let settled =
                    dead_letter(&message, code, &why, &settings, dead_letters.as_deref()).await;
                if settled {
                    finish(&owned, &partition, generation, offset);
                }
            }
        }
        backpressure(
            &consumer,
            &owned,
            &partition,
            settings.source.max_in_flight_per_partition,
            &metrics.kafka_partition_pauses,
        );
    }
}

/// Registers an offset as in flight; the partition's generation, or `None`
/// when the partition is not assigned to this instance.
fn begin(owned: &Mutex<Owned>, partition: &Partition, offset: i64) -> Option<u64> {
    let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
    let (generation, tracker) = owned.partitions.get_mut(partition)?;
    tracker.begin(offset);
    Some(*generation)
}

fn finish(owned: &Mutex<Owned>, partition: &Partition, generation: u64, offset: i64) {
    let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((g, tracker)) = owned.partitions.get_mut(partition)
        && *g == generation
    {
        tracker.finish(offset);
    }
}

/// Pauses a partition with too much work in flight.
fn backpressure(
    consumer: &StreamConsumer<SourceContext>,
    owned: &Mutex<Owned>,
    partition: &Partition,
    bound: usize,
    pauses: &prometheus_client::metrics::counter::Counter,
) {
    let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
    let Some((_, tracker)) = owned.partitions.get_mut(partition) else {
        return;
    };
    if !tracker.paused && tracker.in_flight() >= bound {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&partition.0, partition.1);
        match consumer.pause(&tpl) {
            Ok(()) => {
                tracker.paused = true;
                pauses.inc();
                tracing::debug!(topic = %partition.0, partition = partition.1, "paused: {bound} messages in flight");
            }
            Err(e) => tracing::warn!("pausing a Kafka partition: {e}"),
        }
    }
}

/// Commits finished offsets and resumes drained partitions, every
/// `commit_interval_ms`.
async fn commit_loop(
    consumer: Arc<StreamConsumer<SourceContext>>,
    owned: Arc<Mutex<Owned>>,
    settings: Arc<KafkaSourceSettings>,
    stop: CancellationToken,
) {
    let interval = Duration::from_millis(settings.source.commit_interval_ms);
    let bound = settings.source.max_in_flight_per_partition;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        commit_finished(&consumer, &owned, CommitMode::Async);
        let mut resume = TopicPartitionList::new();
        {
            let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
            for ((topic, partition), (_, tracker)) in owned.partitions.iter_mut() {
                if tracker.paused && tracker.in_flight() <= bound / 2 {
                    tracker.paused = false;
                    resume.add_partition(topic, *partition);
                }
            }
        }
        if resume.count() > 0
            && let Err(e) = consumer.resume(&resume)
        {
            tracing::warn!("resuming Kafka partitions: {e}");
        }
    }
}

fn commit_finished(
    consumer: &StreamConsumer<SourceContext>,
    owned: &Mutex<Owned>,
    mode: CommitMode,
) {
    let mut tpl = TopicPartitionList::new();
    {
        let mut owned = owned.lock().unwrap_or_else(|e| e.into_inner());
        for ((topic, partition), (_, tracker)) in owned.partitions.iter_mut() {
            if let Some(position) = tracker.take_commit() {
                let _ = tpl.add_partition_offset(topic, *partition, Offset::Offset(position));
            }
        }
    }
    if tpl.count() > 0
        && let Err(e) = consumer.commit(&tpl, mode)
    {
        tracing::warn!("committing Kafka offsets: {e}");
    }
}

/// The event a message carries, or why it cannot be one (`ERROR_CODE`, reason).
fn decode(
    message: &BorrowedMessage<'_>,
    settings: &KafkaSourceSettings,
) -> Result<Event, (&'static str, String)> {
    let s = &settings.source;
    let value = message
        .payload()
        .ok_or(("KafkaMessageEmpty", "the message has no value".to_string()))?;
    // Room for an envelope around the detail.
    let limits = EventLimits {
        max_bytes: settings.limits.max_bytes + 64 * 1024,
        max_depth: settings.limits.max_depth + 1,
        ..settings.limits
    };
    CheckedEvent::check(value, &limits).map_err(|e| match e {
        EventError::TooLarge { .. } => ("KafkaMessageTooLarge", e.to_string()),
        EventError::NotAnObject(_) => ("KafkaMessageNotAnObject", e.to_string()),
        _ => ("KafkaMessageInvalid", e.to_string()),
    })?;
    // Durable ingest names each event's bus; otherwise the topic decides.
    let bus_header = message.headers().and_then(|h| {
        h.iter()
            .find(|h| h.key == super::durable::BUS_HEADER)
            .and_then(|h| h.value)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::to_string)
    });
    let bus =
        bus_header.unwrap_or_else(|| s.buses.get(message.topic()).unwrap_or(&s.bus).to_string());
    let received = SystemTime::now();
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(value)
        .map_err(|e| {
            (
                "KafkaMessageInvalid",
                format!("the message is not JSON: {e}"),
            )
        })?;
    if is_envelope(&object) {
        let text = |key: &str| {
            object
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let id = match text("id") {
            id if id.is_empty() => event::new_event_id(),
            id => id,
        };
        return Ok(Event {
            id,
            bus,
            source: text("source"),
            detail_type: text("detail-type"),
            json: bytes::Bytes::copy_from_slice(value),
            received,
            received_at: Instant::now(),
            hops: 0,
        });
    }
    let id = event::new_event_id();
    let time = message
        .timestamp()
        .to_millis()
        .and_then(|ms| u64::try_from(ms).ok())
        .and_then(|ms| SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
        .filter(|t| event::representable(*t))
        .unwrap_or(received);
    let metadata = metadata(message);
    let json = build_envelope(&EnvelopeFields {
        id: &id,
        detail_type: &s.detail_type,
        source: &s.event_source,
        account: &settings.account,
        time: &event::format_time(time),
        region: &settings.region,
        resources: &[],
        detail: value,
        extension: Some(("kafka", metadata.as_bytes())),
    });
    Ok(Event {
        id,
        bus,
        source: s.event_source.clone(),
        detail_type: s.detail_type.clone(),
        json: json.into(),
        received,
        received_at: Instant::now(),
        hops: 0,
    })
}

/// An EventBridge envelope: `source`, `detail-type` and an object `detail`.
fn is_envelope(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    object.get("source").is_some_and(|v| v.is_string())
        && object.get("detail-type").is_some_and(|v| v.is_string())
        && object.get("detail").is_some_and(|v| v.is_object())
}

/// `{"topic", "partition", "offset", "key", "headers", "timestamp"}`: key and
/// header values as text (lossy UTF-8), the timestamp in epoch milliseconds.
fn metadata(message: &BorrowedMessage<'_>) -> String {
    let mut headers = serde_json::Map::new();
    if let Some(h) = message.headers() {
        for header in h.iter() {
            let value = header
                .value
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .map_or(serde_json::Value::Null, serde_json::Value::String);
            headers.insert(header.key.to_string(), value);
        }
    }
    serde_json::json!({
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        "headers": headers,
        "timestamp": message.timestamp().to_millis(),
    })
    .to_string()
}

/// Sends a message that cannot be an event to the dead-letter topic (value and
/// key as they came, the reason and origin in headers), retrying until it is
/// written: the partition waits, because skipping it would lose the message.
/// Without a dead-letter topic the message is logged and skipped. Returns
/// whether the message is settled.
async fn dead_letter(
    message: &BorrowedMessage<'_>,
    code: &'static str,
    why: &str,
    settings: &KafkaSourceSettings,
    producer: Option<&KafkaProducer>,
) -> bool {
    let (topic, partition, offset) = (message.topic(), message.partition(), message.offset());
    let (Some(dlq), Some(producer)) = (&settings.source.dead_letter_topic, producer) else {
        tracing::error!(
            topic,
            partition,
            offset,
            error_code = code,
            "Kafka message skipped (no kafka.source.dead_letter_topic): {why}"
        );
        return true;
    };
    let mut delay = Duration::from_millis(100);
    loop {
        let mut headers = OwnedHeaders::new();
        let partition_text = partition.to_string();
        let offset_text = offset.to_string();
        for (key, value) in [
            ("ERROR_CODE", code),
            ("ERROR_MESSAGE", why),
            ("KAFKA_TOPIC", topic),
            ("KAFKA_PARTITION", partition_text.as_str()),
            ("KAFKA_OFFSET", offset_text.as_str()),
        ] {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        let value = message.payload().unwrap_or_default();
        match producer.send(dlq, message.key(), value, headers).await {
            Ok(()) => {
                tracing::warn!(
                    topic,
                    partition,
                    offset,
                    error_code = code,
                    "Kafka message sent to the dead-letter topic {dlq}: {why}"
                );
                return true;
            }
            Err(e) => {
                tracing::error!(
                    topic,
                    partition,
                    offset,
                    "writing to the dead-letter topic {dlq}: {}; retrying",
                    e.message
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_go_below_the_lowest_unfinished_offset() {
        let mut t = OffsetTracker::default();
        assert_eq!(t.commit_position(), None);
        for o in 10..15 {
            t.begin(o);
        }
        t.finish(11);
        t.finish(12);
        assert_eq!(t.commit_position(), Some(10), "10 is still in flight");
        t.finish(10);
        assert_eq!(t.commit_position(), Some(13));
        t.finish(14);
        assert_eq!(t.commit_position(), Some(13), "13 holds the rest back");
        t.finish(13);
        assert_eq!(t.commit_position(), Some(15), "all done: the next to read");
        assert_eq!(t.take_commit(), Some(15));
        assert_eq!(t.take_commit(), None, "nothing new to commit");
    }
}
