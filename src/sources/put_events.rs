//! `PutEvents`, as EventBridge validates and answers it.
//!
//! 1 to 10 entries; the request's size by AWS's formula (14 bytes for `Time` when
//! present, plus the UTF-8 bytes of `Source`, `DetailType`, `Detail` and each
//! resource) within the configured limit; then each entry on its own: a missing
//! `Source`, `DetailType` or `Detail` is `InvalidArgument`, a `Detail` that is not
//! a JSON object `MalformedDetail`, a full router `ThrottlingException`. Entries
//! line up with the request by index. Each valid entry's `Detail` is validated
//! once here and its envelope built once; nothing downstream checks it again.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::SourceContext;
use super::aws_json::{AwsError, output, read_input};
use crate::event::{self, EnvelopeFields, Event, build_envelope};
use crate::pattern::{CheckedEvent, EventLimits};
use crate::router::Refused;
use crate::router::completion::Completion;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    entries: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    source: Option<String>,
    detail_type: Option<String>,
    detail: Option<String>,
    resources: Option<Vec<String>>,
    time: Option<Time>,
    event_bus_name: Option<String>,
}

/// SDKs send `Time` as epoch seconds (an integer or a float); RFC 3339 text is
/// accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Time {
    Seconds(f64),
    Text(String),
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    failed_entry_count: usize,
    entries: Vec<ResultEntry>,
}

pub fn put_events(ctx: &SourceContext, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    let request: Request = read_input(body)?;
    let entries = request.entries.unwrap_or_default();
    if entries.is_empty() {
        return Err(AwsError::validation(
            "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    if entries.len() > 10 {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value of {} entries at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10",
            entries.len()
        )));
    }
    let size: usize = entries.iter().map(entry_size).sum();
    if size > ctx.config.limits.put_events_max_bytes {
        ctx.count("put_events", "too_large");
        return Err(AwsError::validation(
            "Total size of the entries in the request is over the limit.",
        ));
    }
    let limits = ctx.config.limits.detail_limits();
    let received = SystemTime::now();
    let received_text = event::format_time(received);
    let mut failed = 0;
    let mut admitted = Vec::with_capacity(entries.len());
    let results: Vec<ResultEntry> = entries
        .into_iter()
        .map(|entry| {
            let r = accept(ctx, entry, &limits, received, &received_text).map(|(event, c)| {
                let id = event.id.clone();
                admitted.push((event, c));
                id
            });
            let outcome = match &r {
                Ok(_) => "accepted",
                Err(("ThrottlingException", _)) => "throttled",
                Err(("ServiceUnavailable", _)) => "unavailable",
                Err(_) => "invalid",
            };
            ctx.count("put_events", outcome);
            match r {
                Ok(id) => ResultEntry {
                    event_id: Some(id),
                    ..ResultEntry::default()
                },
                Err((code, message)) => {
                    failed += 1;
                    ResultEntry {
                        event_id: None,
                        error_code: Some(code),
                        error_message: Some(message),
                    }
                }
            }
        })
        .collect();
    let mut results = results;
    let accepted_at: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.event_id.is_some())
        .map(|(i, _)| i)
        .collect();
    for (i, why) in ctx.hand_on(admitted) {
        let entry = &mut results[accepted_at[i]];
        tracing::error!("durable ingest: {why}");
        *entry = ResultEntry {
            event_id: None,
            error_code: Some("InternalException"),
            error_message: Some("The event could not be stored; try again.".into()),
        };
        failed += 1;
    }
    output(&Response {
        failed_entry_count: failed,
        entries: results,
    })
}

/// AWS's entry size: 14 bytes for `Time`, plus `Source`, `DetailType`, `Detail`
/// and each resource in UTF-8 bytes.
fn entry_size(e: &Entry) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    (if e.time.is_some() { 14 } else { 0 })
        + text(&e.source)
        + text(&e.detail_type)
        + text(&e.detail)
        + e.resources
            .as_ref()
            .map_or(0, |r| r.iter().map(String::len).sum())
}

fn required(value: &Option<String>, name: &str) -> Result<(), (&'static str, String)> {
    match value {
        Some(v) if !v.is_empty() => Ok(()),
        _ => Err((
            "InvalidArgument",
            format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
        )),
    }
}

/// Validates one entry, admits it and builds its event (routed with the
/// request's other entries); or the entry's error code and message.
fn accept(
    ctx: &SourceContext,
    entry: Entry,
    limits: &EventLimits,
    received: SystemTime,
    received_text: &str,
) -> Result<(Arc<Event>, Completion), (&'static str, String)> {
    required(&entry.source, "Source")?;
    required(&entry.detail_type, "DetailType")?;
    required(&entry.detail, "Detail")?;
    let detail = entry.detail.as_deref().unwrap_or_default();
    CheckedEvent::check(detail.as_bytes(), limits)
        .map_err(|_| ("MalformedDetail", "Detail is malformed.".to_string()))?;
    let time = match &entry.time {
        None => None,
        Some(Time::Seconds(s)) => Some(event::from_epoch_seconds(*s).ok_or_else(invalid_time)?),
        Some(Time::Text(t)) => Some(event::parse_rfc3339(t).ok_or_else(invalid_time)?),
    };
    let time_text = time.map(event::format_time);
    let bus = bus_name(entry.event_bus_name.as_deref())?;
    let permit = ctx.ingest.admit().map_err(refused)?;
    let id = event::new_event_id();
    let source = entry.source.unwrap_or_default();
    let detail_type = entry.detail_type.unwrap_or_default();
    let json = build_envelope(&EnvelopeFields {
        id: &id,
        detail_type: &detail_type,
        source: &source,
        account: &ctx.config.server.account,
        time: time_text.as_deref().unwrap_or(received_text),
        region: &ctx.config.server.region,
        resources: entry.resources.as_deref().unwrap_or_default(),
        detail: detail.as_bytes(),
        extension: None,
    });
    let event = Event {
        id: id.clone(),
        bus,
        source,
        detail_type,
        json: json.into(),
        received,
        received_at: Instant::now(),
        hops: 0,
    };
    Ok((Arc::new(event), Completion::detached(Some(permit))))
}

fn invalid_time() -> (&'static str, String) {
    (
        "InvalidArgument",
        "Parameter Time is not valid. Reason: Time must be epoch seconds or an RFC 3339 timestamp."
            .to_string(),
    )
}

fn refused(r: Refused) -> (&'static str, String) {
    match r {
        Refused::Throttled => (
            "ThrottlingException",
            "Rate exceeded: the router is at its in-flight limit; retry this entry".to_string(),
        ),
        Refused::Unavailable => (
            "ServiceUnavailable",
            "switchyard is shutting down; retry this entry against another instance".to_string(),
        ),
    }
}

/// `EventBusName` is a name or an event bus ARN; absent is `default`.
fn bus_name(given: Option<&str>) -> Result<String, (&'static str, String)> {
    let Some(given) = given.filter(|s| !s.is_empty()) else {
        return Ok("default".into());
    };
    let name = if given.starts_with("arn:") {
        given
            .split_once(":event-bus/")
            .map(|(_, name)| name)
            .ok_or_else(|| {
                (
                    "InvalidArgument",
                    format!("Parameter EventBusName is not valid. Reason: {given} is not an event bus ARN."),
                )
            })?
    } else {
        given
    };
    let valid = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if !valid {
        return Err((
            "InvalidArgument",
            format!(
                "Parameter EventBusName is not valid. Reason: {given:?} is not a valid event bus name."
            ),
        ));
    }
    Ok(name.to_string())
}
