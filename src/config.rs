//! `switchyard serve`'s configuration: the optional TOML file and its defaults.
//!
//! It owns the names, defaults and validation of every setting that is not a rule
//! (rules live in the rules directory) and resolving secrets from environment
//! variables or files. Command-line flags override the file (`cli::serve` applies
//! them). Nothing here starts anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::pattern::event::DEFAULT_SEARCH_STEPS;
use crate::pattern::{EventLimits, PatternLimits};

/// The default listen address (documented in the README).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8088";

/// The whole file. Every section and field is optional.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub router: RouterConfig,
    pub targets: TargetsConfig,
    pub retry: RetryConfig,
    pub file: FileConfig,
    pub auth: AuthConfig,
    pub plugins: PluginsConfig,
    pub kafka: KafkaConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `HOST:PORT` of the one HTTP listener.
    pub listen: String,
    /// Account id in envelopes and ARNs.
    pub account: String,
    /// Region in envelopes and ARNs.
    pub region: String,
    /// How long SIGTERM/SIGINT waits for queued and in-flight deliveries.
    pub drain_timeout_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN.into(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            drain_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// PutEvents request size by AWS's formula. 1 MiB (EventBridge's limit since
    /// 2026); 262144 is the older 256 KB limit.
    pub put_events_max_bytes: usize,
    /// Largest HTTP request body accepted at all (bigger bodies get 413).
    pub max_body_bytes: usize,
    /// Deepest nesting of objects and arrays in an event.
    pub max_event_depth: usize,
    /// Steps the matcher's array-consistency search may take for one event;
    /// past it the event goes to the router's dead-letter destination.
    pub max_search_steps: u64,
    /// EventBridge's wildcard complexity limit per pattern ("Rule is too
    /// complex"), applied when rules load.
    pub max_wildcard_complexity: usize,
}

/// The deepest `limits.max_event_depth` allowed.
pub const MAX_EVENT_DEPTH: usize = 1000;

impl LimitsConfig {
    /// Limits on one event's `Detail` (or CloudEvents `data`) at ingest.
    pub fn detail_limits(&self) -> EventLimits {
        EventLimits {
            max_bytes: self.put_events_max_bytes,
            max_depth: self.max_event_depth,
            max_search_steps: self.max_search_steps,
        }
    }

    /// Limits for matching whole envelopes: the detail's, plus room for the
    /// envelope around it.
    pub fn envelope_limits(&self) -> EventLimits {
        EventLimits {
            max_bytes: self.put_events_max_bytes + 64 * 1024,
            max_depth: self.max_event_depth + 1,
            max_search_steps: self.max_search_steps,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            put_events_max_bytes: 1024 * 1024,
            max_body_bytes: 8 * 1024 * 1024,
            max_event_depth: 128,
            max_search_steps: DEFAULT_SEARCH_STEPS,
            max_wildcard_complexity: PatternLimits::default().max_wildcard_complexity,
        }
    }
}

/// Kafka: the cluster, librdkafka options passed through, and the source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `bootstrap.servers` (`--kafka-brokers`); Kafka targets, destinations and
    /// the source need it.
    pub brokers: Option<String>,
    /// librdkafka producer settings, passed through (`compression.type`,
    /// `linger.ms`, `batch.size`, `security.protocol`, `sasl.*`, ...). switchyard
    /// sets `acks=all` and `enable.idempotence=true` unless these say otherwise.
    pub producer: std::collections::BTreeMap<String, String>,
    /// librdkafka consumer settings, passed through.
    pub consumer: std::collections::BTreeMap<String, String>,
    /// How long a record may wait in the producer's queue before the attempt
    /// fails (and is retried by the target's `RetryPolicy`).
    pub send_timeout_ms: u64,
    pub source: KafkaSourceConfig,
    pub ingest: KafkaIngestConfig,
}

/// Durable ingest: PutEvents and CloudEvents append to this topic before they
/// answer, and the Kafka source (group `kafka.source.group`) routes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaIngestConfig {
    /// Off without a topic.
    pub topic: Option<String>,
    /// What the records are keyed by (what keeps its order).
    pub key: IngestKey,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IngestKey {
    #[default]
    Source,
    DetailType,
    Id,
    None,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: None,
            producer: Default::default(),
            consumer: Default::default(),
            send_timeout_ms: 30_000,
            source: KafkaSourceConfig::default(),
            ingest: KafkaIngestConfig::default(),
        }
    }
}

/// Consuming topics as a consumer group and routing what they carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSourceConfig {
    /// Topics to consume (`--kafka-source`); none: no Kafka source.
    pub topics: Vec<String>,
    /// The consumer group (`--kafka-group`).
    pub group: String,
    /// The bus events from these topics are put on...
    pub bus: String,
    /// ...unless this maps their topic to another.
    pub buses: std::collections::BTreeMap<String, String>,
    /// `source` and `detail-type` of the envelope around a message that is not
    /// an EventBridge envelope itself.
    pub event_source: String,
    pub detail_type: String,
    /// Where messages that cannot be routed (not JSON, too large, too deep) go,
    /// with the reason in headers; without one they are logged and skipped.
    pub dead_letter_topic: Option<String>,
    /// Messages of one partition in flight at once; past it that partition is
    /// paused until its work drains.
    pub max_in_flight_per_partition: usize,
    /// How often finished offsets are committed.
    pub commit_interval_ms: u64,
}

impl Default for KafkaSourceConfig {
    fn default() -> Self {
        KafkaSourceConfig {
            topics: Vec::new(),
            group: "switchyard".into(),
            bus: "default".into(),
            buses: Default::default(),
            event_source: "kafka".into(),
            detail_type: "Kafka Message".into(),
            dead_letter_topic: None,
            max_in_flight_per_partition: 10_000,
            commit_interval_ms: 200,
        }
    }
}

/// The Wasm plugin host: the sandbox's default limits (a rule's `Transform` may
/// set its own `Limits`), the circuit breaker and the compile cache.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// CPU time one `transform` (or `init`) call may take before it is cut off.
    pub timeout_ms: u64,
    /// Linear memory one plugin instance may grow to.
    pub memory_mib: u64,
    /// Outputs one call may return.
    pub max_outputs: usize,
    /// Bytes of all outputs of one call together.
    pub max_output_bytes: usize,
    /// Wasm stack per call (engine-wide).
    pub stack_kib: usize,
    /// Plugin instances alive at once (one per worker thread and binding), the
    /// size of the pre-allocated instance pool.
    pub max_instances: u32,
    /// Log lines (the `log` import, stdout and stderr) kept per instance per
    /// second; the rest are counted and dropped.
    pub logs_per_second: u32,
    /// Longest log message kept; longer ones are truncated.
    pub log_max_bytes: usize,
    /// Failures within `breaker_window_ms` that open a binding's circuit breaker.
    pub breaker_failures: u32,
    pub breaker_window_ms: u64,
    /// How long an open breaker sends events straight to the dead-letter path
    /// before it lets one through to try again.
    pub breaker_cooldown_ms: u64,
    /// Threads that run plugins (the router's transform stage); 0 means one per
    /// CPU core.
    pub threads: usize,
    /// Where compiled plugins are cached, keyed by content and engine. Default
    /// `$XDG_CACHE_HOME/switchyard/plugins` (or `~/.cache/...`); `""` disables.
    pub cache_dir: Option<PathBuf>,
}

impl PluginsConfig {
    /// `threads`, with 0 resolved to the number of CPU cores.
    pub fn thread_count(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            timeout_ms: 50,
            memory_mib: 64,
            max_outputs: 100,
            max_output_bytes: 4 * 1024 * 1024,
            stack_kib: 512,
            max_instances: 1000,
            logs_per_second: 50,
            log_max_bytes: 4096,
            breaker_failures: 5,
            breaker_window_ms: 10_000,
            breaker_cooldown_ms: 30_000,
            threads: 0,
            cache_dir: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouterConfig {
    /// Events accepted and not yet finished (delivered or dead-lettered) at once;
    /// past it, ingest answers throttling errors. This bounds memory.
    pub max_in_flight_events: usize,
    /// How many times an event may be put on another bus by `EventBus` targets.
    pub max_hops: u32,
    /// Where events the router cannot route (the matcher refused them) are
    /// written.
    pub dead_letter: Option<DestinationConfig>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            max_in_flight_events: 50_000,
            max_hops: 8,
            dead_letter: None,
        }
    }
}

/// A dead-letter destination given in the config file (the rule file's
/// `DeadLetterConfig` shapes, in TOML).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum DestinationConfig {
    File { path: PathBuf },
    Http { endpoint: String },
    Stdout {},
    Kafka { topic: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetsConfig {
    /// Deliveries waiting for a slot per target past which each further one is
    /// counted as throttled (`ThrottledRules`); they still wait, none is dropped.
    pub queue_size: usize,
    /// Deliveries one target holds at most (queued, in progress, or waiting to
    /// retry); past it, further ones are dead-lettered (`TargetBacklogFull`),
    /// so a target that is down cannot hold all of the router's in-flight places.
    pub max_pending: usize,
    /// Deliveries in progress per target at once.
    pub max_concurrency: usize,
    /// HTTP target timeout (API destinations: 5 s).
    pub http_timeout_ms: u64,
}

impl Default for TargetsConfig {
    fn default() -> Self {
        TargetsConfig {
            queue_size: 1024,
            max_pending: 10_000,
            max_concurrency: 64,
            http_timeout_ms: 5_000,
        }
    }
}

/// Backoff between attempts: exponential from `base_delay_ms`, capped at
/// `max_delay_ms`, with full jitter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            base_delay_ms: 1_000,
            max_delay_ms: 60_000,
        }
    }
}

/// When file targets call fsync.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FsyncPolicy {
    /// After every batch of lines, before the delivery counts as done.
    EveryWrite,
    /// Every `fsync_interval_ms`; lines are written to the OS before they count.
    Interval,
    /// Never: the OS writes back when it likes.
    Os,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub fsync: FsyncPolicy,
    pub fsync_interval_ms: u64,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            fsync: FsyncPolicy::Interval,
            fsync_interval_ms: 1_000,
        }
    }
}

/// SigV4 verification. Off unless an access key id is set; the secret comes from
/// an environment variable or a file, never from the config text itself.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub access_key_id: Option<String>,
    pub secret_access_key_env: Option<String>,
    pub secret_access_key_file: Option<PathBuf>,
}

impl Config {
    /// Reads a config file; errors name the file and, for TOML errors, the line.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let positive = [
            (
                "router.max_in_flight_events",
                self.router.max_in_flight_events,
            ),
            ("targets.queue_size", self.targets.queue_size),
            ("targets.max_pending", self.targets.max_pending),
            ("targets.max_concurrency", self.targets.max_concurrency),
            (
                "limits.put_events_max_bytes",
                self.limits.put_events_max_bytes,
            ),
            ("limits.max_body_bytes", self.limits.max_body_bytes),
            ("plugins.timeout_ms", self.plugins.timeout_ms as usize),
            ("plugins.memory_mib", self.plugins.memory_mib as usize),
            ("plugins.max_outputs", self.plugins.max_outputs),
            ("plugins.max_output_bytes", self.plugins.max_output_bytes),
            ("plugins.stack_kib", self.plugins.stack_kib),
            ("plugins.max_instances", self.plugins.max_instances as usize),
            (
                "plugins.breaker_failures",
                self.plugins.breaker_failures as usize,
            ),
            ("kafka.send_timeout_ms", self.kafka.send_timeout_ms as usize),
            (
                "kafka.source.max_in_flight_per_partition",
                self.kafka.source.max_in_flight_per_partition,
            ),
            (
                "kafka.source.commit_interval_ms",
                self.kafka.source.commit_interval_ms as usize,
            ),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        // Readers of events recurse once per level: a bound keeps a hostile
        // event far from the end of a thread's stack.
        if !(1..=MAX_EVENT_DEPTH).contains(&self.limits.max_event_depth) {
            return Err(format!(
                "limits.max_event_depth must be between 1 and {MAX_EVENT_DEPTH}"
            ));
        }
        if !self.kafka.source.topics.is_empty() && self.kafka.brokers.is_none() {
            return Err("kafka.source.topics needs kafka.brokers (or --kafka-brokers)".into());
        }
        if self.kafka.ingest.topic.is_some() && self.kafka.brokers.is_none() {
            return Err("kafka.ingest.topic needs kafka.brokers (or --kafka-brokers)".into());
        }
        if self.retry.base_delay_ms > self.retry.max_delay_ms {
            return Err("retry.base_delay_ms must not exceed retry.max_delay_ms".into());
        }
        if self.auth.access_key_id.is_some()
            && self.auth.secret_access_key_env.is_none()
            && self.auth.secret_access_key_file.is_none()
        {
            return Err("auth.access_key_id needs auth.secret_access_key_env or auth.secret_access_key_file".into());
        }
        Ok(())
    }

    pub fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.server.drain_timeout_ms)
    }
}

/// A secret named by an environment variable or a file (trailing newline removed).
pub fn read_secret(env: Option<&str>, file: Option<&Path>, what: &str) -> Result<String, String> {
    if let Some(var) = env {
        return std::env::var(var)
            .map_err(|_| format!("{what}: environment variable {var} is not set"));
    }
    if let Some(path) = file {
        return std::fs::read_to_string(path)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|e| format!("{what}: cannot read {}: {e}", path.display()));
    }
    Err(format!("{what}: no environment variable or file given"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.server.listen, DEFAULT_LISTEN);
        assert_eq!(c.limits.put_events_max_bytes, 1_048_576);
        assert_eq!(c.file.fsync, FsyncPolicy::Interval);
        assert_eq!(c.limits.max_wildcard_complexity, 10);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let e = Config::parse("[server]\nlisten = \"x\"\nport = 1\n").unwrap_err();
        assert!(e.contains("unknown field `port`"), "{e}");
        assert!(e.contains("line 3"), "{e}");
        let e = Config::parse("[router]\nmax_in_flight_events = 0\n").unwrap_err();
        assert_eq!(e, "router.max_in_flight_events must be at least 1");
        for depth in [0, 1001] {
            let e = Config::parse(&format!("[limits]\nmax_event_depth = {depth}\n")).unwrap_err();
            assert_eq!(e, "limits.max_event_depth must be between 1 and 1000");
        }
        let e = Config::parse("[auth]\naccess_key_id = \"AK\"\n").unwrap_err();
        assert!(e.contains("secret_access_key_env"), "{e}");
        let e = Config::parse("[kafka.ingest]\ntopic = \"in\"\n").unwrap_err();
        assert_eq!(
            e,
            "kafka.ingest.topic needs kafka.brokers (or --kafka-brokers)"
        );
        let e = Config::parse("[kafka.source]\ncommit_interval_ms = 0\n").unwrap_err();
        assert_eq!(e, "kafka.source.commit_interval_ms must be at least 1");
        let e = Config::parse("[plugins]\ntimeout_ms = 0\n").unwrap_err();
        assert_eq!(e, "plugins.timeout_ms must be at least 1");
        let e = Config::parse("[plugins]\nmemory_mb = 64\n").unwrap_err();
        assert!(
            e.contains("unknown field `memory_mb`, expected one of"),
            "{e}"
        );
    }

    #[test]
    fn plugin_defaults() {
        let c = Config::parse("[plugins]\nthreads = 3\ncache_dir = \"\"\n").unwrap();
        assert_eq!(c.plugins.thread_count(), 3);
        assert_eq!(c.plugins.timeout_ms, 50);
        assert_eq!(c.plugins.memory_mib, 64);
        assert_eq!(c.plugins.cache_dir, Some(PathBuf::new()));
        assert!(Config::default().plugins.thread_count() >= 1);
    }

    #[test]
    fn dead_letter_and_fsync_shapes() {
        let c = Config::parse(
            "[router]\ndead_letter = { File = { path = \"dlq.jsonl\" } }\n[file]\nfsync = \"every-write\"\n",
        )
        .unwrap();
        assert_eq!(
            c.router.dead_letter,
            Some(DestinationConfig::File {
                path: "dlq.jsonl".into()
            })
        );
        assert_eq!(c.file.fsync, FsyncPolicy::EveryWrite);
    }
}
