//! Kafka targets and dead-letter destinations: one librdkafka producer per
//! process, shared by every rule, and one [`KafkaTarget`] per destination.
//!
//! An attempt produces one record and is done only when the broker confirmed
//! it (`acks=all` and idempotence by default, overridable through
//! `[kafka.producer]`). The record's key is the `KeyPath` value from the event
//! (a string as its text, anything else as JSON) or the constant `Key`; its
//! headers are the event's `id`, `source` and `detail-type` plus the
//! destination's `Headers`. As a dead-letter destination the record's value is
//! the original event and the dead-letter attributes are its headers. Broker
//! errors are retryable (the target's `RetryPolicy` decides), except those a
//! retry cannot fix (a record too large, an invalid topic). With `Ordered` it
//! names each record's key as its ordering key; keeping the order is the
//! router's (`router::delivery::KeyOrder`).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use serde_json::Value;

use super::{Attempt, BoxFuture, DeliveryError, Target};
use crate::config::KafkaConfig;
use crate::rules::JsonPath;
use crate::transform::input::CompiledPath;

/// The process's producer.
pub struct KafkaProducer {
    producer: FutureProducer,
    send_timeout: Duration,
}

impl KafkaProducer {
    pub fn new(config: &KafkaConfig) -> Result<KafkaProducer, String> {
        let brokers = config.brokers.as_deref().ok_or(
            "Kafka targets need a cluster: set kafka.brokers in the config or --kafka-brokers",
        )?;
        let mut client = ClientConfig::new();
        client
            .set("bootstrap.servers", brokers)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("client.id", "switchyard");
        for (key, value) in &config.producer {
            client.set(key, value);
        }
        let producer = client
            .create()
            .map_err(|e| format!("cannot create the Kafka producer: {e}"))?;
        Ok(KafkaProducer {
            producer,
            send_timeout: Duration::from_millis(config.send_timeout_ms),
        })
    }

    /// Produces one record; `Ok` once the broker confirmed it.
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: &[u8],
        headers: OwnedHeaders,
    ) -> Result<(), DeliveryError> {
        let mut record = FutureRecord::to(topic).payload(value).headers(headers);
        if let Some(key) = key {
            record = record.key(key);
        }
        self.producer
            .send(record, self.send_timeout)
            .await
            .map(drop)
            .map_err(|(e, _)| classify(topic, &e))
    }

    /// Waits up to `timeout` for records still queued (at shutdown).
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(timeout) {
            tracing::warn!("flushing the Kafka producer: {e}");
        }
    }
}

fn classify(topic: &str, e: &KafkaError) -> DeliveryError {
    let message = format!("producing to Kafka topic {topic}: {e}");
    let permanent = matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::TopicAuthorizationFailed
        )
    );
    if permanent {
        DeliveryError::permanent("KafkaError", message)
    } else {
        DeliveryError::retryable("KafkaError", message)
    }
}

/// Where a record's key comes from.
enum Key {
    None,
    Constant(Vec<u8>),
    Path(CompiledPath),
}

/// One Kafka destination.
pub struct KafkaTarget {
    producer: Arc<KafkaProducer>,
    topic: String,
    key: Key,
    headers: Vec<(String, String)>,
    ordered: bool,
}

impl KafkaTarget {
    pub fn new(
        producer: Arc<KafkaProducer>,
        topic: &str,
        key_path: Option<&JsonPath>,
        key: Option<&str>,
        headers: &[(String, String)],
        ordered: bool,
    ) -> KafkaTarget {
        let key = match (key_path, key) {
            (Some(path), _) => Key::Path(CompiledPath::new(path)),
            (None, Some(k)) => Key::Constant(k.as_bytes().to_vec()),
            (None, None) => Key::None,
        };
        KafkaTarget {
            producer,
            topic: topic.to_string(),
            key,
            headers: headers.to_vec(),
            ordered,
        }
    }

    /// The record key for an event (`None`: no key, or `KeyPath` found nothing).
    pub fn key_for(&self, event_json: &[u8]) -> Option<Vec<u8>> {
        match &self.key {
            Key::None => None,
            Key::Constant(k) => Some(k.clone()),
            Key::Path(path) => {
                let event: Value = serde_json::from_slice(event_json).ok()?;
                match path.select(&event)?.as_ref() {
                    Value::String(s) => Some(s.as_bytes().to_vec()),
                    Value::Null => None,
                    other => Some(other.to_string().into_bytes()),
                }
            }
        }
    }
}

impl Target for KafkaTarget {
    fn ordering_key(
        &self,
        event: &crate::event::Event,
        _payload: &bytes::Bytes,
    ) -> Option<Vec<u8>> {
        // Events without a key are ordered among themselves (key "").
        self.ordered
            .then(|| self.key_for(&event.json).unwrap_or_default())
    }

    fn deliver<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let event = attempt.event;
            let mut headers = OwnedHeaders::new();
            let (value, key): (&[u8], Option<Vec<u8>>) = match attempt.dead_letter {
                // A dead letter: the original event, the attributes as headers.
                Some(attributes) => {
                    for (name, value) in attributes {
                        headers = headers.insert(Header {
                            key: name,
                            value: Some(value.as_str()),
                        });
                    }
                    (&event.json[..], None)
                }
                None => (&attempt.payload[..], self.key_for(&event.json)),
            };
            for (name, value) in [
                ("id", event.id.as_str()),
                ("source", event.source.as_str()),
                ("detail-type", event.detail_type.as_str()),
            ] {
                headers = headers.insert(Header {
                    key: name,
                    value: Some(value),
                });
            }
            for (name, value) in &self.headers {
                headers = headers.insert(Header {
                    key: name,
                    value: Some(value.as_str()),
                });
            }
            self.producer
                .send(&self.topic, key.as_deref(), value, headers)
                .await
        })
    }
}
