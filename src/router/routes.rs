//! The route table: for each rule of a rule-set snapshot, its ARN, its counters
//! and, per target, the compiled input shaping and the delivery handle.
//!
//! [`RoutesBuilder`] makes one [`Routes`] per published snapshot (on the rules
//! watcher's thread, off the hot path) and keeps delivery handles across reloads
//! while a target's definition is unchanged, so its queue, connections and
//! pending retries carry on. A changed or removed target's old handle drains and
//! stops once no snapshot uses it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use tokio_util::sync::CancellationToken;

use super::delivery::{HandleSettings, TargetHandle, TargetSpec};
use crate::config::Config;
use crate::metrics::{Metrics, labels};
use crate::rules::{Rule, RuleSet};
use crate::targets::{Attempt, BoxFuture, DeliveryError, Target, TargetFactory};
use crate::transform::input::CompiledInput;

/// Everything the router needs to route on one snapshot.
pub struct Routes {
    pub rules: Arc<RuleSet>,
    /// Indexed like `rules.rules()`.
    pub by_rule: Vec<RuleRoutes>,
}

pub struct RuleRoutes {
    pub rule: Arc<Rule>,
    pub arn: String,
    pub matched: Counter,
    pub targets: Vec<TargetRoute>,
}

pub struct TargetRoute {
    /// The event itself, unchanged: no shaping, no copy.
    pub passes_event: bool,
    pub input: CompiledInput,
    pub handle: Arc<TargetHandle>,
}

impl Routes {
    pub fn empty() -> Routes {
        Routes {
            rules: Arc::new(RuleSet::empty()),
            by_rule: Vec::new(),
        }
    }

    pub fn handles(&self) -> impl Iterator<Item = &Arc<TargetHandle>> {
        self.by_rule
            .iter()
            .flat_map(|r| r.targets.iter().map(|t| &t.handle))
    }
}

/// `arn:aws:events:<region>:<account>:rule/[<bus>/]<name>` (no bus for `default`).
pub fn rule_arn(region: &str, account: &str, bus: &str, name: &str) -> String {
    if bus == "default" {
        format!("arn:aws:events:{region}:{account}:rule/{name}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
    }
}

pub struct RoutesBuilder {
    factory: TargetFactory,
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    handles: Mutex<HashMap<(String, String), Arc<TargetHandle>>>,
}

impl RoutesBuilder {
    pub fn new(
        factory: TargetFactory,
        config: Config,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> RoutesBuilder {
        RoutesBuilder {
            factory,
            config,
            metrics,
            shutdown,
            handles: Mutex::new(HashMap::new()),
        }
    }

    pub fn factory(&self) -> &TargetFactory {
        &self.factory
    }

    pub fn build(&self, rules: Arc<RuleSet>) -> Routes {
        let mut previous = self.handles.lock().unwrap();
        let mut kept: HashMap<(String, String), Arc<TargetHandle>> = HashMap::new();
        let mut by_rule = Vec::with_capacity(rules.rules().len());
        let (region, account) = (&self.config.server.region, &self.config.server.account);
        for rule in rules.rules() {
            let arn = rule_arn(region, account, &rule.event_bus_name, &rule.name);
            let matched = self
                .metrics
                .matched_events
                .get_or_create(&labels(&[
                    ("bus", &rule.event_bus_name),
                    ("rule", &rule.name),
                ]))
                .clone();
            let mut targets = Vec::with_capacity(rule.targets.len());
            for target in &rule.targets {
                let key = (rule.name.clone(), target.id.clone());
                let spec = TargetSpec {
                    rule_arn: arn.clone(),
                    destination: target.destination.clone(),
                    retry_policy: target.retry_policy,
                    dead_letter: target.dead_letter.clone(),
                    built: true,
                };
                let handle = match previous.remove(&key) {
                    Some(h) if h.spec == spec => h,
                    _ => self.spawn_handle(rule, &target.id, &arn, spec),
                };
                kept.insert(key, handle.clone());
                let input = CompiledInput::new(&target.input);
                targets.push(TargetRoute {
                    passes_event: input.is_matched_event(),
                    input,
                    handle,
                });
            }
            by_rule.push(RuleRoutes {
                rule: rule.clone(),
                arn,
                matched,
                targets,
            });
        }
        *previous = kept;
        self.metrics.rules_generation.set(rules.generation() as i64);
        Routes { rules, by_rule }
    }

    fn spawn_handle(
        &self,
        rule: &Rule,
        target_id: &str,
        arn: &str,
        mut spec: TargetSpec,
    ) -> Arc<TargetHandle> {
        let target = self.factory.build(&spec.destination).unwrap_or_else(|why| {
            spec.built = false;
            unavailable(rule, target_id, why)
        });
        let dead_letter = spec.dead_letter.as_ref().map(|d| {
            self.factory.build(d).unwrap_or_else(|why| {
                spec.built = false;
                unavailable(rule, target_id, why)
            })
        });
        TargetHandle::spawn(
            spec,
            target,
            dead_letter,
            HandleSettings {
                rule_name: &rule.name,
                rule_arn: arn,
                target_id,
                queue_size: self.config.targets.queue_size,
                max_concurrency: self.config.targets.max_concurrency,
                backoff: self.config.retry.clone(),
                metrics: &self.metrics,
                shutdown: self.shutdown.clone(),
            },
        )
    }
}

/// A target that could not be set up (a file that cannot be opened, a kind not
/// built yet): every delivery fails for good with the reason, so events go to
/// the dead-letter path rather than vanish.
fn unavailable(rule: &Rule, target_id: &str, why: String) -> Arc<dyn Target> {
    tracing::error!(rule = %rule.name, target = target_id, "target unavailable: {why}");
    Arc::new(Unavailable(why))
}

struct Unavailable(String);

impl Target for Unavailable {
    fn deliver<'a>(&'a self, _: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            Err(DeliveryError::permanent(
                "TargetUnavailable",
                self.0.clone(),
            ))
        })
    }
}
