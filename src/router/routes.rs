//! The route table: for each rule of a rule-set snapshot, its ARN, its counters
//! and, per target, the compiled input shaping, the plugin binding and the
//! delivery handle.
//!
//! [`RoutesBuilder`] makes one [`Routes`] per published snapshot (on the rules
//! watcher's thread, off the hot path) and keeps delivery handles across reloads
//! while a target's definition is unchanged, so its queue, connections and
//! pending retries carry on. A changed or removed target's old handle drains and
//! stops once no snapshot uses it. Plugin bindings are kept the same way while
//! the plugin file and the `Transform` are unchanged (their instances stay
//! warm); a new plugin version gets a new binding, and calls in flight finish on
//! the old one, which the previous snapshot holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use tokio_util::sync::CancellationToken;

use super::delivery::{HandleSettings, TargetHandle, TargetSpec};
use crate::config::Config;
use crate::metrics::{Metrics, labels};
use crate::rules::{Rule, RuleSet, Transform};
use crate::targets::{Attempt, BoxFuture, DeliveryError, Target, TargetFactory};
use crate::transform::input::CompiledInput;
use crate::transform::wasm::{Binding, PluginHost};

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
    /// The target's `Transform`, if it has one.
    pub plugin: Option<PluginRoute>,
    pub handle: Arc<TargetHandle>,
}

/// A target's plugin: bound, or why not (its events are dead-lettered with
/// `PluginUnavailable` until a reload fixes it).
pub enum PluginRoute {
    Bound(Arc<Binding>),
    Unavailable(String),
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

    /// Every plugin binding, for `/status`.
    pub fn bindings(&self) -> impl Iterator<Item = &Arc<Binding>> {
        self.by_rule
            .iter()
            .flat_map(|r| r.targets.iter())
            .filter_map(|t| match &t.plugin {
                Some(PluginRoute::Bound(b)) => Some(b),
                _ => None,
            })
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
    plugins: Option<Arc<PluginHost>>,
    bindings: Mutex<HashMap<(String, String), KeptBinding>>,
}

/// A binding and what it was made from.
struct KeptBinding {
    transform: Transform,
    binding: Arc<Binding>,
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
            plugins: None,
            bindings: Mutex::new(HashMap::new()),
        }
    }

    /// Targets' `Transform`s bind plugins from this host.
    pub fn with_plugins(mut self, host: Arc<PluginHost>) -> RoutesBuilder {
        self.plugins = Some(host);
        self
    }

    pub fn factory(&self) -> &TargetFactory {
        &self.factory
    }

    pub fn build(&self, rules: Arc<RuleSet>) -> Routes {
        let mut previous = self.handles.lock().unwrap();
        let mut kept: HashMap<(String, String), Arc<TargetHandle>> = HashMap::new();
        let mut previous_bindings = self.bindings.lock().unwrap();
        let mut kept_bindings = HashMap::new();
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
                let plugin = target.transform.as_ref().map(|t| {
                    let kept = previous_bindings.remove(&key);
                    let route = self.bind(rule, &target.id, t, kept);
                    if let PluginRoute::Bound(binding) = &route {
                        kept_bindings.insert(
                            key.clone(),
                            KeptBinding {
                                transform: t.clone(),
                                binding: binding.clone(),
                            },
                        );
                    }
                    route
                });
                kept.insert(key, handle.clone());
                let input = CompiledInput::new(&target.input);
                targets.push(TargetRoute {
                    passes_event: input.is_matched_event(),
                    input,
                    plugin,
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
        *previous_bindings = kept_bindings;
        self.metrics.rules_generation.set(rules.generation() as i64);
        Routes { rules, by_rule }
    }

    /// The binding for a target's `Transform`: the kept one while the plugin
    /// and the `Transform` are unchanged, else a new one.
    fn bind(
        &self,
        rule: &Rule,
        target_id: &str,
        transform: &Transform,
        kept: Option<KeptBinding>,
    ) -> PluginRoute {
        let Some(host) = &self.plugins else {
            return PluginRoute::Unavailable("this process runs no plugin host".into());
        };
        let current = host.registry().get(&transform.plugin);
        if let (Some(k), Ok(plugin)) = (&kept, &current)
            && k.transform == *transform
            && Arc::ptr_eq(&k.binding.plugin, plugin)
        {
            return PluginRoute::Bound(k.binding.clone());
        }
        match host.bind(transform, &rule.name, target_id) {
            Ok(binding) => PluginRoute::Bound(Arc::new(binding)),
            Err(why) => {
                tracing::error!(rule = %rule.name, target = target_id, "plugin unavailable: {why}");
                PluginRoute::Unavailable(why)
            }
        }
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
            unavailable(rule, target_id, "target", why)
        });
        let dead_letter = spec.dead_letter.as_ref().map(|d| {
            self.factory.build(d).unwrap_or_else(|why| {
                spec.built = false;
                unavailable(rule, target_id, "dead-letter destination", why)
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
                max_pending: self.config.targets.max_pending,
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
/// A stand-in for a target (or its dead-letter destination, `what`) that could
/// not be set up.
fn unavailable(rule: &Rule, target_id: &str, what: &str, why: String) -> Arc<dyn Target> {
    tracing::error!(rule = %rule.name, target = target_id, "{what} unavailable: {why}");
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
