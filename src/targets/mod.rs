//! Targets: where a shaped event is delivered, one module per kind behind one
//! trait.
//!
//! A [`Target`] makes one delivery attempt and says how it went: done, or a
//! [`DeliveryError`] that says whether retrying can help. Retrying, backoff,
//! dead-lettering and queues are the router's (`router::delivery`), so a new kind
//! of target adds a module here and a line in
//! [`TargetFactory::build`] and touches nothing else. A target reports done only
//! when the receiving side has the event: the HTTP server answered 2xx, the line
//! was written (and synced, by the file policy), the other bus accepted it.

pub mod bus;
pub mod file;
pub mod http;
mod http_auth;
pub mod kafka;
pub mod lines;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::config::{Config, DestinationConfig};
use crate::event::Event;
use crate::router::Ingest;
use crate::router::completion::Completion;
use crate::rules::Destination;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One delivery attempt's inputs.
pub struct Attempt<'a> {
    /// The bytes to deliver (after input shaping).
    pub payload: &'a Bytes,
    /// The matched event, for metadata (id, source, detail-type, hops).
    pub event: &'a Arc<Event>,
    /// This delivery's completion; a target that hands the event on (another
    /// bus) splits it so the original resolves only when the next hop is done.
    pub completion: &'a Completion,
    /// 1 for the first attempt.
    pub number: u32,
    /// Set when this is a dead letter: `payload` is then the JSON record, and
    /// these are its attributes, for destinations that carry them beside the
    /// original event (Kafka headers).
    pub dead_letter: Option<&'a [(&'static str, String)]>,
}

/// What a target does: one attempt at a time, many attempts concurrently.
pub trait Target: Send + Sync {
    fn deliver<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>>;

    /// For a target that keeps per-key order (`Kafka` with `Ordered`): the key
    /// whose deliveries must settle one after another, in routing order.
    fn ordering_key(&self, _event: &Event, _payload: &Bytes) -> Option<Vec<u8>> {
        None
    }
}

/// Why an attempt failed. `code` becomes the dead-letter record's `ERROR_CODE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub code: &'static str,
    pub message: String,
    /// Whether another attempt may succeed (timeouts, 5xx, 429).
    pub retryable: bool,
    /// The receiver's `Retry-After`, honoured as the least wait before the next try.
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    pub fn retryable(code: &'static str, message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            code,
            message: message.into(),
            retryable: true,
            retry_after: None,
        }
    }

    pub fn permanent(code: &'static str, message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            code,
            message: message.into(),
            retryable: false,
            retry_after: None,
        }
    }
}

/// What every target of a running server shares: one pooled HTTP client, one
/// writer per file path, standard output, and the router's entrance (for
/// `EventBus` targets).
pub struct TargetFactory {
    http: http::HttpClient,
    files: file::FileWriters,
    stdout: Arc<lines::LineWriter>,
    ingest: Ingest,
    kafka_config: crate::config::KafkaConfig,
    /// Made when the first Kafka destination is.
    kafka: std::sync::OnceLock<Result<Arc<kafka::KafkaProducer>, String>>,
}

impl TargetFactory {
    pub fn new(config: &Config, ingest: Ingest) -> TargetFactory {
        TargetFactory {
            http: http::HttpClient::new(Duration::from_millis(config.targets.http_timeout_ms)),
            files: file::FileWriters::new(config.file.clone()),
            stdout: Arc::new(lines::LineWriter::stdout()),
            ingest,
            kafka_config: config.kafka.clone(),
            kafka: std::sync::OnceLock::new(),
        }
    }

    /// The target for a rule's destination.
    pub fn build(&self, destination: &Destination) -> Result<Arc<dyn Target>, String> {
        Ok(match destination {
            Destination::Stdout => Arc::new(lines::LinesTarget::new(self.stdout.clone())),
            Destination::File { path } => {
                Arc::new(lines::LinesTarget::new(self.files.writer(path)?))
            }
            Destination::Http {
                endpoint,
                method,
                headers,
                auth,
                rate_limit_per_second,
            } => Arc::new(self.http.target(
                endpoint,
                method,
                headers,
                auth.as_ref(),
                *rate_limit_per_second,
            )?),
            Destination::EventBus { name } => {
                Arc::new(bus::BusTarget::new(name.clone(), self.ingest.clone()))
            }
            Destination::Kafka {
                topic,
                key_path,
                key,
                headers,
                ordered,
            } => Arc::new(kafka::KafkaTarget::new(
                self.kafka_producer()?,
                topic,
                key_path.as_ref(),
                key.as_deref(),
                headers,
                *ordered,
            )),
        })
    }

    /// The process's Kafka producer, made on first use.
    pub fn kafka_producer(&self) -> Result<Arc<kafka::KafkaProducer>, String> {
        self.kafka
            .get_or_init(|| kafka::KafkaProducer::new(&self.kafka_config).map(Arc::new))
            .clone()
    }

    /// A dead-letter destination from the config file.
    pub fn build_configured(&self, d: &DestinationConfig) -> Result<Arc<dyn Target>, String> {
        self.build(&match d {
            DestinationConfig::File { path } => Destination::File { path: path.clone() },
            DestinationConfig::Http { endpoint } => Destination::Http {
                endpoint: endpoint.clone(),
                method: "POST".into(),
                headers: Vec::new(),
                auth: None,
                rate_limit_per_second: None,
            },
            DestinationConfig::Stdout {} => Destination::Stdout,
            DestinationConfig::Kafka { topic } => Destination::Kafka {
                topic: topic.clone(),
                key_path: None,
                key: None,
                headers: Vec::new(),
                ordered: false,
            },
        })
    }

    /// Flushes and syncs every file (at shutdown).
    pub fn flush_all(&self) {
        self.files.flush_all();
        self.stdout.flush();
        if let Some(Ok(producer)) = self.kafka.get() {
            producer.flush(Duration::from_secs(3));
        }
    }
}

/// A short, human description of a destination for logs and status.
pub fn describe(destination: &Destination) -> String {
    match destination {
        Destination::Stdout => "stdout".into(),
        Destination::File { path } => format!("file {}", path.display()),
        Destination::Http {
            method, endpoint, ..
        } => format!("http {method} {endpoint}"),
        Destination::EventBus { name } => format!("event bus {name}"),
        Destination::Kafka { topic, .. } => format!("kafka topic {topic}"),
    }
}
