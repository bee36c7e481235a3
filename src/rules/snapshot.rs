//! The rule set the router matches events against: an immutable snapshot of the
//! running rules with one compiled matcher per event bus.
//!
//! It owns building a snapshot (all the compile work, done off the hot path) and
//! answering which enabled rules match an event on a bus. It does not know where
//! rules come from (`directory`) or when snapshots are swapped (`watch`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::pattern::{CheckedEvent, EventError, EventLimits, Matcher};

use super::model::Rule;

/// An immutable set of rules; share it as `Arc<RuleSet>`.
pub struct RuleSet {
    generation: u64,
    created: SystemTime,
    rules: Vec<Arc<Rule>>,
    /// Per event bus, a matcher over the enabled rules of that bus; ids index `rules`.
    matchers: HashMap<String, Matcher<u32>>,
    limits: EventLimits,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("generation", &self.generation)
            .field("rules", &self.rules.len())
            .field("buses", &self.matchers.len())
            .finish()
    }
}

impl RuleSet {
    /// Compiles the enabled rules' patterns; disabled rules are kept (for status)
    /// but never match.
    pub fn build(generation: u64, rules: Vec<Arc<Rule>>, limits: EventLimits) -> RuleSet {
        let mut matchers: HashMap<String, Matcher<u32>> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.is_enabled() {
                let id = u32::try_from(i).expect("fewer than 2^32 rules");
                matchers
                    .entry(rule.event_bus_name.clone())
                    .or_insert_with(|| Matcher::new(limits))
                    .add(id, rule.event_pattern.clone());
            }
        }
        RuleSet {
            generation,
            created: SystemTime::now(),
            rules,
            matchers,
            limits,
        }
    }

    /// A set with no rules.
    pub fn empty() -> RuleSet {
        RuleSet::build(0, Vec::new(), EventLimits::default())
    }

    /// The enabled rules on `bus` whose pattern matches the event, in rule order.
    /// An event that is not a readable JSON object is an error even when the bus
    /// has no rules, so that callers see bad input the same way every time.
    pub fn matching_rules(&self, bus: &str, event: &[u8]) -> Result<Vec<&Arc<Rule>>, EventError> {
        let Some(matcher) = self.matchers.get(bus) else {
            crate::pattern::event::read_event(event, &self.limits)?;
            return Ok(Vec::new());
        };
        let mut ids = matcher.matches(event)?;
        ids.sort_unstable();
        Ok(ids.into_iter().map(|id| &self.rules[id as usize]).collect())
    }

    /// Indexes into [`rules`](Self::rules) of the enabled rules on `bus` that match
    /// an event validated at ingest, in rule order. The router's path: nothing is
    /// validated twice.
    pub fn matching_indexes_checked(
        &self,
        bus: &str,
        event: &CheckedEvent<'_>,
    ) -> Result<Vec<usize>, EventError> {
        let Some(matcher) = self.matchers.get(bus) else {
            return Ok(Vec::new());
        };
        let mut ids = matcher.matches_checked(event)?;
        ids.sort_unstable();
        Ok(ids.into_iter().map(|id| id as usize).collect())
    }

    /// Whether some enabled rule listens on `bus`.
    pub fn has_bus(&self, bus: &str) -> bool {
        self.matchers.contains_key(bus)
    }

    /// The buses rules name (enabled or not), sorted, `default` always included.
    pub fn buses(&self) -> Vec<&str> {
        let mut buses: Vec<&str> = self
            .rules
            .iter()
            .map(|r| r.event_bus_name.as_str())
            .collect();
        buses.push("default");
        buses.sort_unstable();
        buses.dedup();
        buses
    }

    /// Counts up by one with each reload.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn created(&self) -> SystemTime {
        self.created
    }

    /// All rules, enabled or not.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    pub fn rule(&self, name: &str) -> Option<&Arc<Rule>> {
        self.rules.iter().find(|r| r.name == name)
    }
}
