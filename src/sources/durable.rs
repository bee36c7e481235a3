//! Durable ingest: with `[kafka.ingest] topic` set, PutEvents and CloudEvents
//! append each accepted event to that Kafka topic (`acks=all`) before they
//! answer, instead of routing it in memory; the Kafka source consumes the topic
//! and routes it, committing only after delivery. An event the HTTP API
//! accepted then survives a crash of the router, and is routed by whichever
//! instance owns its partition.
//!
//! Records carry the envelope as their value, the bus in the header
//! `switchyard-bus`, and are keyed by the event's `source`, `detail-type`, `id`,
//! or nothing (`[kafka.ingest] key`), which decides what keeps its order.

use std::sync::Arc;

use rdkafka::message::{Header, OwnedHeaders};

use crate::config::IngestKey;
use crate::event::Event;
use crate::targets::kafka::KafkaProducer;

/// The header that names an ingested event's bus.
pub const BUS_HEADER: &str = "switchyard-bus";

pub struct DurableIngest {
    producer: Arc<KafkaProducer>,
    topic: String,
    key: IngestKey,
}

impl DurableIngest {
    pub fn new(producer: Arc<KafkaProducer>, topic: String, key: IngestKey) -> DurableIngest {
        DurableIngest {
            producer,
            topic,
            key,
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Appends the events; for each, `Ok` once the broker confirmed it, or why
    /// not. Blocks this request's thread (the runtime moves its other work off
    /// it) until every record is confirmed.
    pub fn append(&self, events: &[Arc<Event>]) -> Vec<Result<(), String>> {
        let sends = events.iter().map(|event| async move {
            let key = match self.key {
                IngestKey::Source => Some(event.source.as_bytes()),
                IngestKey::DetailType => Some(event.detail_type.as_bytes()),
                IngestKey::Id => Some(event.id.as_bytes()),
                IngestKey::None => None,
            };
            let headers = OwnedHeaders::new().insert(Header {
                key: BUS_HEADER,
                value: Some(event.bus.as_str()),
            });
            self.producer
                .send(&self.topic, key, &event.json, headers)
                .await
                .map_err(|e| e.message)
        });
        let all = futures_util::future::join_all(sends);
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(all))
    }
}
