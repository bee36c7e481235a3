//! Targets and where they deliver: `Targets`, each target's destination (`Kafka`,
//! `File`, `Stdout`, `EventBus`; `Http` is `http`'s), `RetryPolicy` and
//! `DeadLetterConfig` (`Transform` is `transform`'s).

use std::path::PathBuf;

use crate::json::{Json, JsonValue, Member};
use crate::rules::model::{Destination, Position, RetryPolicy, Target};

use super::{Obj, Reader, join};

const MAX_TARGETS: usize = 5;
const RETRY_ATTEMPTS: (u64, u64) = (0, 185);
const EVENT_AGE: (u64, u64) = (60, 86_400);

const DESTINATIONS: &[&str] = &["Kafka", "Http", "File", "Stdout", "EventBus"];
const TARGET_FIELDS: &[&str] = &[
    "Id",
    "Kafka",
    "Http",
    "File",
    "Stdout",
    "EventBus",
    "Input",
    "InputPath",
    "InputTransformer",
    "Transform",
    "RetryPolicy",
    "DeadLetterConfig",
];

impl Reader<'_> {
    /// `rule` is the rule's name when it is valid (plugins are `init`ed with it).
    pub(super) fn targets(
        &mut self,
        json: &Json,
        location: &str,
        bus: &str,
        rule: Option<&str>,
    ) -> Vec<Target> {
        let JsonValue::Array(items) = &json.value else {
            self.type_problem(json, location, "an array of targets");
            return Vec::new();
        };
        if items.len() > MAX_TARGETS {
            self.problem(
                &items[MAX_TARGETS],
                location,
                format!(
                    "{} targets is more than the limit of {MAX_TARGETS} per rule: split the rule",
                    items.len()
                ),
            );
        }
        let mut targets: Vec<Target> = Vec::new();
        let mut ids: Vec<(&str, usize)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let here = format!("{location}[{i}]");
            let id = self.target(item, &here, bus, rule, &mut targets);
            if let Some((id, id_json)) = id {
                if let Some(&(_, first)) = ids.iter().find(|(seen, _)| *seen == id) {
                    let Position { line, column } = self.position(first);
                    self.problem(
                        id_json,
                        &join(&here, "Id"),
                        format!(
                            "duplicate target id \"{id}\" (first used at line {line}, column {column}): target ids must be unique within a rule"
                        ),
                    );
                } else {
                    ids.push((id, id_json.span.start));
                }
            }
        }
        targets
    }

    /// Reads one target into `out`; returns its id (when valid) for the duplicate check.
    fn target<'j>(
        &mut self,
        json: &'j Json,
        location: &str,
        bus: &str,
        rule: Option<&str>,
        out: &mut Vec<Target>,
    ) -> Option<(&'j str, &'j Json)> {
        let before = self.problems.len();
        let obj = self.object(json, location, TARGET_FIELDS)?;
        let id = match obj.get("Id") {
            Some(v) => self
                .rule_name(v, &join(location, "Id"), "target id")
                .map(|id| (id, v)),
            None => {
                self.missing(&obj, location, "Id");
                None
            }
        };
        let destination = self.destination(&obj, location, false);
        if let Some((Destination::EventBus { name }, _)) = &destination
            && name == bus
        {
            let at = obj.get("EventBus").unwrap_or(json);
            self.problem(
                at,
                &join(location, "EventBus"),
                format!(
                    "the rule listens on event bus \"{bus}\" and would send its events back to it, looping forever: choose another bus"
                ),
            );
        }
        let input = self.target_input(&obj, location);
        let transform_at = join(location, "Transform");
        let transform = obj
            .get("Transform")
            .and_then(|v| self.transform(v, &transform_at).map(|t| (t, v)));
        let retry_policy = match obj.get("RetryPolicy") {
            Some(v) => self.retry_policy(v, &join(location, "RetryPolicy")),
            None => Some(RetryPolicy::default()),
        };
        let dead_letter = obj.get("DeadLetterConfig").map(|v| {
            let here = join(location, "DeadLetterConfig");
            self.object(v, &here, DESTINATIONS)
                .and_then(|o| self.destination(&o, &here, true))
        });

        // Whether the plugin runs with this Config is asked last, once the
        // rest of the target is valid: it instantiates the plugin.
        if self.problems.len() == before
            && let (Some((t, at)), Some((id, _)), Some(rule)) = (&transform, id, rule)
        {
            self.check_plugin(t, at, &transform_at, rule, id);
        }
        let transform = transform.map(|(t, _)| t);
        if self.problems.len() == before
            && let (Some((id, _)), Some((destination, destination_at)), Some(input), Some(retry)) =
                (id, destination, input, retry_policy)
        {
            out.push(Target {
                id: id.to_string(),
                destination,
                destination_at,
                input,
                transform,
                retry_policy: retry,
                dead_letter: dead_letter.flatten().map(|(d, _)| d),
            });
        }
        id
    }

    /// Exactly one destination among the members of `obj`.
    fn destination(
        &mut self,
        obj: &Obj,
        location: &str,
        dead_letter: bool,
    ) -> Option<(Destination, Position)> {
        let given: Vec<&Member> = obj
            .members
            .iter()
            .copied()
            .filter(|m| DESTINATIONS.contains(&m.key.as_str()))
            .collect();
        let choices = if dead_letter {
            "Kafka, Http, File or Stdout"
        } else {
            "Kafka, Http, File, Stdout or EventBus"
        };
        let member = match given.as_slice() {
            [] => {
                self.problem(
                    obj.json,
                    location,
                    format!("missing destination: give exactly one of {choices}"),
                );
                return None;
            }
            [one] => *one,
            [first, second, ..] => {
                self.problem_at(
                    second.key_span.start,
                    &join(location, &second.key),
                    format!(
                        "give exactly one destination, but both {} and {} are given",
                        first.key, second.key
                    ),
                );
                return None;
            }
        };
        let here = join(location, &member.key);
        let json = &member.value;
        let at = self.position(json.span.start);
        let destination = match member.key.as_str() {
            "Kafka" => self.kafka(json, &here)?,
            "Http" => self.http(json, &here)?,
            "File" => {
                let o = self.object(json, &here, &["Path"])?;
                let Some(v) = o.get("Path") else {
                    self.missing(&o, &here, "Path");
                    return None;
                };
                let path = self.string(v, &join(&here, "Path"))?;
                if path.is_empty() || path.contains('\0') {
                    self.problem(
                        v,
                        &join(&here, "Path"),
                        "give a file path, such as \"out/orders.jsonl\"".into(),
                    );
                    return None;
                }
                Destination::File {
                    path: PathBuf::from(path),
                }
            }
            "Stdout" => {
                self.object(json, &here, &[])?;
                Destination::Stdout
            }
            _ => {
                if dead_letter {
                    self.problem_at(
                        member.key_span.start,
                        &here,
                        format!("an event bus cannot be a dead-letter destination: use {choices}"),
                    );
                    return None;
                }
                let o = self.object(json, &here, &["Name"])?;
                let Some(v) = o.get("Name") else {
                    self.missing(&o, &here, "Name");
                    return None;
                };
                let name = self.bus_name(v, &join(&here, "Name"))?;
                Destination::EventBus {
                    name: name.to_string(),
                }
            }
        };
        Some((destination, at))
    }

    fn retry_policy(&mut self, json: &Json, location: &str) -> Option<RetryPolicy> {
        let obj = self.object(
            json,
            location,
            &["MaximumRetryAttempts", "MaximumEventAgeInSeconds"],
        )?;
        let mut policy = RetryPolicy::default();
        let mut ok = true;
        for (key, (low, high), field) in [
            (
                "MaximumRetryAttempts",
                RETRY_ATTEMPTS,
                &mut policy.maximum_retry_attempts,
            ),
            (
                "MaximumEventAgeInSeconds",
                EVENT_AGE,
                &mut policy.maximum_event_age_in_seconds,
            ),
        ] {
            let Some(v) = obj.get(key) else { continue };
            match self.whole_number(v, &join(location, key), (low, high)) {
                Some(x) => *field = x as u32,
                None => ok = false,
            }
        }
        ok.then_some(policy)
    }
}
