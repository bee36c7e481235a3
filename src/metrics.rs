//! Prometheus metrics (prometheus-client), named after EventBridge's CloudWatch
//! metrics where EventBridge has one (`MatchedEvents` is
//! `switchyard_matched_events_total`, and so on).
//!
//! It owns the registry, the metric families and rendering `/metrics`. Stages keep
//! the handles they increment (a `Counter` is a shared atomic), so the hot path
//! never looks a label set up. Gauges for queue depths are set when `/metrics` is
//! scraped, by whoever owns the queues.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub type Labels = Vec<(String, String)>;

fn plugin_histogram() -> Histogram {
    // 250 ns to about 1 s, in factors of 4.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.000_000_25,
        4.0,
        12,
    ))
}

fn histogram() -> Histogram {
    // 100 µs to about 100 s, in factors of 2.5.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.5, 16,
    ))
}

/// Every metric switchyard exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    pub matched_events: Family<Labels, Counter>,
    pub invocations: Family<Labels, Counter>,
    pub failed_invocations: Family<Labels, Counter>,
    pub retry_invocation_attempts: Family<Labels, Counter>,
    pub invocations_sent_to_dlq: Family<Labels, Counter>,
    pub invocations_failed_to_be_sent_to_dlq: Family<Labels, Counter>,
    pub throttled_rules: Family<Labels, Counter>,
    pub ingestion_to_invocation_latency: Family<Labels, Histogram, fn() -> Histogram>,
    pub ingested_events: Family<Labels, Counter>,
    pub events_without_rules: Family<Labels, Counter>,
    pub router_errors: Family<Labels, Counter>,
    pub target_queue_depth: Family<Labels, Gauge>,
    pub in_flight_events: Gauge,
    pub rules_generation: Gauge,
    pub kafka_partition_pauses: Counter,
    pub plugin: Arc<PluginMetrics>,
}

/// Per (plugin, rule, target) binding of a Wasm plugin.
pub struct PluginMetrics {
    pub invocations: Family<Labels, Counter>,
    pub failures: Family<Labels, Counter>,
    pub outputs: Family<Labels, Counter>,
    pub dropped: Family<Labels, Counter>,
    pub instantiations: Family<Labels, Counter>,
    pub state: Family<Labels, Gauge>,
    pub duration: Family<Labels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Mutex::new(Registry::with_prefix("switchyard")),
            matched_events: Family::default(),
            invocations: Family::default(),
            failed_invocations: Family::default(),
            retry_invocation_attempts: Family::default(),
            invocations_sent_to_dlq: Family::default(),
            invocations_failed_to_be_sent_to_dlq: Family::default(),
            throttled_rules: Family::default(),
            ingestion_to_invocation_latency: Family::new_with_constructor(histogram),
            ingested_events: Family::default(),
            events_without_rules: Family::default(),
            router_errors: Family::default(),
            target_queue_depth: Family::default(),
            in_flight_events: Gauge::default(),
            rules_generation: Gauge::default(),
            kafka_partition_pauses: Counter::default(),
            plugin: Arc::new(PluginMetrics {
                invocations: Family::default(),
                failures: Family::default(),
                outputs: Family::default(),
                dropped: Family::default(),
                instantiations: Family::default(),
                state: Family::default(),
                duration: Family::new_with_constructor(plugin_histogram),
            }),
        };
        {
            let mut r = m.registry.lock().unwrap();
            r.register(
                "matched_events",
                "Events that matched a rule (EventBridge MatchedEvents)",
                m.matched_events.clone(),
            );
            r.register(
                "invocations",
                "Delivery attempts to a target, retries included (EventBridge Invocations)",
                m.invocations.clone(),
            );
            r.register(
                "failed_invocations",
                "Deliveries that failed for good (EventBridge FailedInvocations)",
                m.failed_invocations.clone(),
            );
            r.register(
                "retry_invocation_attempts",
                "Delivery attempts that were retries (EventBridge RetryInvocationAttempts)",
                m.retry_invocation_attempts.clone(),
            );
            r.register(
                "invocations_sent_to_dlq",
                "Deliveries written to a dead-letter destination (EventBridge InvocationsSentToDlq)",
                m.invocations_sent_to_dlq.clone(),
            );
            r.register(
                "invocations_failed_to_be_sent_to_dlq",
                "Dead-letter writes that failed; the record was logged (EventBridge InvocationsFailedToBeSentToDlq)",
                m.invocations_failed_to_be_sent_to_dlq.clone(),
            );
            r.register(
                "throttled_rules",
                "Deliveries that waited because the target's queue was full (EventBridge ThrottledRules)",
                m.throttled_rules.clone(),
            );
            r.register(
                "ingestion_to_invocation_success_latency_seconds",
                "From ingest to a successful delivery (EventBridge IngestiontoInvocationSuccessLatency)",
                m.ingestion_to_invocation_latency.clone(),
            );
            r.register(
                "ingested_events",
                "Entries received, by source and outcome (accepted, invalid, throttled, unavailable); too_large counts whole requests",
                m.ingested_events.clone(),
            );
            r.register(
                "events_without_rules",
                "Accepted events put on a bus that no rule listens on",
                m.events_without_rules.clone(),
            );
            r.register(
                "router_errors",
                "Events the router could not route, by reason",
                m.router_errors.clone(),
            );
            r.register(
                "target_queue_depth",
                "Deliveries waiting in a target's queue",
                m.target_queue_depth.clone(),
            );
            r.register(
                "in_flight_events",
                "Events accepted and not yet finished",
                m.in_flight_events.clone(),
            );
            r.register(
                "rules_generation",
                "Generation of the running rule set",
                m.rules_generation.clone(),
            );
            r.register(
                "kafka_partition_pauses",
                "Times a Kafka source partition was paused because max_in_flight_per_partition messages were unfinished",
                m.kafka_partition_pauses.clone(),
            );
            let p = &m.plugin;
            r.register(
                "plugin_invocations",
                "Calls of a Wasm plugin's transform",
                p.invocations.clone(),
            );
            r.register(
                "plugin_failures",
                "Plugin calls that failed, by ERROR_CODE (PluginTimeout, PluginTrap, ...); their events were dead-lettered",
                p.failures.clone(),
            );
            r.register(
                "plugin_outputs",
                "Events a plugin returned (a split counts each)",
                p.outputs.clone(),
            );
            r.register(
                "plugin_dropped_events",
                "Events a plugin dropped (it returned no output)",
                p.dropped.clone(),
            );
            r.register(
                "plugin_instantiations",
                "Plugin instances created (one per worker thread, again after a trap)",
                p.instantiations.clone(),
            );
            r.register(
                "plugin_state",
                "A plugin binding's state: 0 closed (healthy), 1 open circuit breaker, 2 half-open, 3 disabled by a fatal error",
                p.state.clone(),
            );
            r.register(
                "plugin_duration_seconds",
                "Time of one plugin transform call",
                p.duration.clone(),
            );
        }
        m
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap();
        encode(&mut out, &registry).expect("writing to a String cannot fail");
        out
    }
}

/// `[("rule", r), ("target", t)]`.
pub fn rule_target(rule: &str, target: &str) -> Labels {
    vec![
        ("rule".to_string(), rule.to_string()),
        ("target".to_string(), target.to_string()),
    ]
}

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
