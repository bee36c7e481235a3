//! `TestEventPattern` and the read-only rule and bus calls (`ListRules`,
//! `DescribeRule`, `ListTargetsByRule`, `ListEventBuses`, `DescribeEventBus`),
//! answered from the running rule set in EventBridge's shapes, so existing
//! tools can inspect a running switchyard.
//!
//! Paging: `NextToken` is the name of the next item (opaque to clients);
//! `Limit` is 1 to 100. Targets are described with their switchyard destination
//! as an `Arn`-like string (`arn:switchyard:<kind>:...`), since they are not AWS
//! resources; `EventBus` targets get the real bus ARN.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SourceContext;
use super::aws_json::{AwsError, output, read_input};
use crate::pattern::{Pattern, event::read_event};
use crate::router::routes::rule_arn;
use crate::rules::{Destination, Rule, RuleState, Target, TargetInput};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TestEventPatternInput {
    event_pattern: Option<String>,
    event: Option<String>,
}

pub fn test_event_pattern(_ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let input: TestEventPatternInput = read_input(body)?;
    let pattern_text = input.event_pattern.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'eventPattern' failed to satisfy constraint: Member must not be null")
    })?;
    let event_text = input.event.ok_or_else(|| {
        AwsError::validation("1 validation error detected: Value null at 'event' failed to satisfy constraint: Member must not be null")
    })?;
    let pattern = Pattern::parse(&pattern_text).map_err(|e| {
        AwsError::client(
            "InvalidEventPatternException",
            format!("Event pattern is not valid. Reason: {e}"),
        )
    })?;
    let invalid_event = || AwsError::validation("Parameter Event is not valid.");
    let event =
        read_event(event_text.as_bytes(), &Default::default()).map_err(|_| invalid_event())?;
    // EventBridge requires the envelope's fields (not `resources`).
    let crate::json::JsonValue::Object(members) = &event.value else {
        return Err(invalid_event());
    };
    for field in ["id", "account", "source", "time", "region", "detail-type"] {
        if !members.iter().any(|m| m.key == field) {
            return Err(invalid_event());
        }
    }
    output(&json!({ "Result": pattern.matches(&event) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRulesInput {
    name_prefix: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleOutput {
    name: String,
    arn: String,
    event_pattern: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    event_bus_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<String>,
}

fn state_name(s: RuleState) -> &'static str {
    match s {
        RuleState::Enabled => "ENABLED",
        RuleState::Disabled => "DISABLED",
        RuleState::EnabledWithAllCloudtrailManagementEvents => {
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
        }
    }
}

fn describe(ctx: &SourceContext, rule: &Rule, created_by: bool) -> RuleOutput {
    let server = &ctx.config.server;
    RuleOutput {
        name: rule.name.clone(),
        arn: rule_arn(
            &server.region,
            &server.account,
            &rule.event_bus_name,
            &rule.name,
        ),
        event_pattern: rule.event_pattern_text.clone(),
        state: state_name(rule.state),
        description: rule.description.clone(),
        event_bus_name: rule.event_bus_name.clone(),
        created_by: created_by.then(|| server.account.clone()),
    }
}

/// One page of names sorted by name, starting after `next_token`.
fn page<T>(
    mut items: Vec<(String, T)>,
    next_token: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = match limit {
        None => 100,
        Some(l) if (1..=100).contains(&l) => l as usize,
        Some(l) => {
            return Err(AwsError::validation(format!(
                "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = match next_token {
        None => 0,
        Some(token) => items.partition_point(|(name, _)| name.as_str() < token),
    };
    let rest: Vec<(String, T)> = items.into_iter().skip(start).collect();
    let next = rest.get(limit).map(|(name, _)| name.clone());
    Ok((rest.into_iter().take(limit).map(|(_, t)| t).collect(), next))
}

/// `{key: [one page], "NextToken"?}`.
fn paged<T: Serialize>(
    key: &str,
    items: Vec<(String, T)>,
    next_token: Option<&str>,
    limit: Option<i64>,
) -> Result<Vec<u8>, AwsError> {
    let (items, next) = page(items, next_token, limit)?;
    let mut out = serde_json::Map::new();
    out.insert(key.to_string(), json!(items));
    if let Some(next) = next {
        out.insert("NextToken".into(), json!(next));
    }
    output(&out)
}

fn bus_or_default(bus: Option<String>) -> String {
    match bus {
        Some(b) if !b.is_empty() => b
            .split_once(":event-bus/")
            .map_or(b.clone(), |(_, name)| name.to_string()),
        _ => "default".into(),
    }
}

pub fn list_rules(ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let input: ListRulesInput = read_input(body)?;
    let bus = bus_or_default(input.event_bus_name);
    let routes = ctx.routes.load();
    let prefix = input.name_prefix.unwrap_or_default();
    let rules: Vec<(String, RuleOutput)> = routes
        .rules
        .rules()
        .iter()
        .filter(|r| r.event_bus_name == bus && r.name.starts_with(&prefix))
        .map(|r| (r.name.clone(), describe(ctx, r, false)))
        .collect();
    paged("Rules", rules, input.next_token.as_deref(), input.limit)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeRuleInput {
    name: Option<String>,
    event_bus_name: Option<String>,
}

fn find_rule(
    ctx: &SourceContext,
    name: Option<String>,
    bus: Option<String>,
    field: &str,
) -> Result<std::sync::Arc<Rule>, AwsError> {
    let name = name.ok_or_else(|| {
        AwsError::validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })?;
    let bus = bus_or_default(bus);
    let routes = ctx.routes.load();
    routes
        .rules
        .rules()
        .iter()
        .find(|r| r.name == name && r.event_bus_name == bus)
        .cloned()
        .ok_or_else(|| {
            AwsError::client(
                "ResourceNotFoundException",
                format!("Rule {name} does not exist on EventBus {bus}."),
            )
        })
}

pub fn describe_rule(ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let input: DescribeRuleInput = read_input(body)?;
    let rule = find_rule(ctx, input.name, input.event_bus_name, "name")?;
    output(&describe(ctx, &rule, true))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTargetsInput {
    rule: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

fn destination_arn(ctx: &SourceContext, d: &Destination) -> String {
    let s = &ctx.config.server;
    match d {
        Destination::EventBus { name } => bus_arn(ctx, name),
        Destination::Kafka { topic, .. } => {
            format!(
                "arn:switchyard:kafka:{}:{}:topic/{topic}",
                s.region, s.account
            )
        }
        Destination::Http { endpoint, .. } => format!("arn:switchyard:http:::{endpoint}"),
        Destination::File { path } => format!("arn:switchyard:file:::{}", path.display()),
        Destination::Stdout => "arn:switchyard:stdout:::".into(),
    }
}

fn target_output(ctx: &SourceContext, t: &Target) -> Value {
    let mut out = json!({
        "Id": t.id,
        "Arn": destination_arn(ctx, &t.destination),
        "RetryPolicy": {
            "MaximumRetryAttempts": t.retry_policy.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": t.retry_policy.maximum_event_age_in_seconds,
        },
    });
    match &t.input {
        TargetInput::MatchedEvent => {}
        TargetInput::Constant(c) => out["Input"] = json!(c),
        TargetInput::Path(p) => out["InputPath"] = json!(p.text),
        TargetInput::Transformer(tr) => {
            let map: serde_json::Map<String, Value> = tr
                .input_paths_map
                .iter()
                .map(|(k, p)| (k.clone(), json!(p.text)))
                .collect();
            out["InputTransformer"] =
                json!({ "InputPathsMap": map, "InputTemplate": tr.input_template });
        }
    }
    if let Some(dl) = &t.dead_letter {
        out["DeadLetterConfig"] = json!({ "Arn": destination_arn(ctx, dl) });
    }
    out
}

pub fn list_targets_by_rule(ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let input: ListTargetsInput = read_input(body)?;
    let rule = find_rule(ctx, input.rule, input.event_bus_name, "rule")?;
    let targets: Vec<(String, Value)> = rule
        .targets
        .iter()
        .map(|t| (t.id.clone(), target_output(ctx, t)))
        .collect();
    paged("Targets", targets, input.next_token.as_deref(), input.limit)
}

fn bus_arn(ctx: &SourceContext, name: &str) -> String {
    let s = &ctx.config.server;
    format!("arn:aws:events:{}:{}:event-bus/{name}", s.region, s.account)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBusesInput {
    name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub fn list_event_buses(ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let input: ListBusesInput = read_input(body)?;
    let prefix = input.name_prefix.unwrap_or_default();
    let routes = ctx.routes.load();
    let buses: Vec<(String, Value)> = routes
        .rules
        .buses()
        .into_iter()
        .filter(|b| b.starts_with(&prefix))
        .map(|b| (b.to_string(), json!({ "Name": b, "Arn": bus_arn(ctx, b) })))
        .collect();
    paged(
        "EventBuses",
        buses,
        input.next_token.as_deref(),
        input.limit,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeBusInput {
    name: Option<String>,
}

pub fn describe_event_bus(ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let input: DescribeBusInput = read_input(body)?;
    let name = bus_or_default(input.name);
    let routes = ctx.routes.load();
    if !routes.rules.buses().contains(&name.as_str()) {
        return Err(AwsError::client(
            "ResourceNotFoundException",
            format!("Event bus {name} does not exist."),
        ));
    }
    output(&json!({ "Name": name, "Arn": bus_arn(ctx, &name) }))
}
