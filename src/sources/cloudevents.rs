//! CloudEvents 1.0 over HTTP: binary mode (`ce-*` headers, percent-decoded),
//! structured mode (`application/cloudevents+json`) and batch mode
//! (`application/cloudevents-batch+json`), mapped to the EventBridge envelope the
//! way AWS's EventBridge-to-CloudEvents transformer maps the other way, reversed:
//!
//! `id`→`id`, `source`→`source`, `type`→`detail-type`, `time`→`time` (now when
//! absent), `subject`→`resources` (`[subject]`), `data`→`detail`. A `data` that is
//! not a JSON object is wrapped as `{"data": <value>}` (text data as a string),
//! `data_base64` as `{"data_base64": "<text>"}`, no data as `{}`. `specversion`,
//! `datacontenttype`, `dataschema` and every extension attribute go in a last
//! envelope key, `cloudevents`, where patterns can match them.
//!
//! Answers follow the webhook conventions: 202 when accepted, 400 naming the
//! attribute that is missing or wrong, 415 for a content type it cannot read,
//! 429 with `Retry-After` when the router is full, 503 while shutting down.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::SourceContext;
use crate::event::{self, EnvelopeFields, Event, build_envelope};
use crate::pattern::{CheckedEvent, EventLimits};
use crate::router::Refused;
use crate::router::completion::Completion;

/// An event read from the request, before admission.
struct Incoming {
    id: String,
    source: String,
    detail_type: String,
    time: SystemTime,
    resources: Vec<String>,
    detail: Vec<u8>,
    cloudevents: Vec<u8>,
}

struct Problem {
    status: StatusCode,
    message: String,
}

fn bad(message: impl Into<String>) -> Problem {
    Problem {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
    }
}

pub fn handle(ctx: &SourceContext, bus: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let limits = ctx.config.limits.detail_limits();
    let received = SystemTime::now();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let events = match media.as_str() {
        "application/cloudevents+json" => structured(body, &limits, received).map(|e| vec![e]),
        "application/cloudevents-batch+json" => batch(body, &limits, received),
        _ if headers.contains_key("ce-specversion") || headers.contains_key("ce-id") => {
            binary(headers, &media, body, &limits, received).map(|e| vec![e])
        }
        _ => Err(Problem {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: format!(
                "cannot read content type {content_type:?}: send application/cloudevents+json, application/cloudevents-batch+json, or a binary-mode event with ce-* headers"
            ),
        }),
    };
    let events = match events {
        Ok(e) => e,
        Err(p) => {
            ctx.count("cloudevents", "invalid");
            return answer(p.status, &p.message);
        }
    };
    let bound = ctx.config.router.max_in_flight_events;
    if events.len() > bound {
        ctx.count("cloudevents", "too_large");
        return answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "a batch of {} events can never be admitted: router.max_in_flight_events is {bound}; split the batch",
                events.len()
            ),
        );
    }
    // Admit the whole request or none of it.
    let mut permits = Vec::with_capacity(events.len());
    for _ in &events {
        match ctx.ingest.admit() {
            Ok(p) => permits.push(p),
            Err(r) => {
                ctx.count("cloudevents", refused_outcome(r));
                return refused(r);
            }
        }
    }
    let accepted = events.len();
    let mut admitted = Vec::with_capacity(accepted);
    for (incoming, permit) in events.into_iter().zip(permits) {
        let json = build_envelope(&EnvelopeFields {
            id: &incoming.id,
            detail_type: &incoming.detail_type,
            source: &incoming.source,
            account: &ctx.config.server.account,
            time: &event::format_time(incoming.time),
            region: &ctx.config.server.region,
            resources: &incoming.resources,
            detail: &incoming.detail,
            extension: Some(("cloudevents", &incoming.cloudevents)),
        });
        let event = Event {
            id: incoming.id,
            bus: bus.to_string(),
            source: incoming.source,
            detail_type: incoming.detail_type,
            json: json.into(),
            received,
            received_at: Instant::now(),
            hops: 0,
        };
        admitted.push((Arc::new(event), Completion::detached(Some(permit))));
        ctx.count("cloudevents", "accepted");
    }
    let failed = ctx.hand_on(admitted);
    if let Some((_, why)) = failed.first() {
        tracing::error!("durable ingest: {why}");
        return answer(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "{} of {accepted} events could not be stored; send them again",
                failed.len()
            ),
        );
    }
    answer(StatusCode::ACCEPTED, &format!("accepted {accepted}"))
}

fn refused_outcome(r: Refused) -> &'static str {
    match r {
        Refused::Throttled => "throttled",
        Refused::Unavailable => "unavailable",
    }
}

/// 429 with `Retry-After` when full, 503 while shutting down.
pub fn refused(r: Refused) -> Response {
    match r {
        Refused::Throttled => {
            let mut response = answer(
                StatusCode::TOO_MANY_REQUESTS,
                "the router is at its in-flight limit; retry later",
            );
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            response
        }
        Refused::Unavailable => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "switchyard is shutting down and accepts no new events",
        ),
    }
}

fn answer(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "message": message }).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a valid response")
}

/// The attributes the envelope does not hold, in the `cloudevents` key.
fn extension_object(attrs: &Map<String, Value>) -> Vec<u8> {
    let mut extra = Map::new();
    for (k, v) in attrs {
        if !matches!(
            k.as_str(),
            "id" | "source" | "type" | "time" | "subject" | "data" | "data_base64"
        ) {
            extra.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&Value::Object(extra)).expect("serializing attributes")
}

/// Checks the context attributes and maps them; `data` is given separately.
fn map_event(
    attrs: &Map<String, Value>,
    detail: Vec<u8>,
    limits: &EventLimits,
    received: SystemTime,
    at: &str,
) -> Result<Incoming, Problem> {
    let text = |name: &str| -> Result<Option<String>, Problem> {
        match attrs.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(bad(format!(
                "{at}attribute {name} must be a string, found {}",
                type_name(other)
            ))),
        }
    };
    let required = |name: &str| -> Result<String, Problem> {
        match text(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(bad(format!("{at}required attribute {name} is missing"))),
        }
    };
    for (name, value) in attrs {
        if matches!(name.as_str(), "data" | "data_base64") {
            continue;
        }
        if matches!(value, Value::Array(_) | Value::Object(_)) {
            return Err(bad(format!(
                "{at}attribute {name} must be a string, number or boolean, found {}",
                type_name(value)
            )));
        }
    }
    let specversion = required("specversion")?;
    if specversion != "1.0" {
        return Err(bad(format!(
            "{at}specversion {specversion:?} is not supported: switchyard reads CloudEvents 1.0"
        )));
    }
    let id = required("id")?;
    let source = required("source")?;
    let detail_type = required("type")?;
    let time = match text("time")? {
        None => received,
        Some(t) => event::parse_rfc3339(&t).ok_or_else(|| {
            bad(format!(
                "{at}attribute time {t:?} is not an RFC 3339 timestamp"
            ))
        })?,
    };
    let resources = text("subject")?.into_iter().collect();
    CheckedEvent::check(&detail, limits).map_err(|e| bad(format!("{at}data: {e}")))?;
    Ok(Incoming {
        id,
        source,
        detail_type,
        time,
        resources,
        detail,
        cloudevents: extension_object(attrs),
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `detail` from a JSON `data` value.
fn detail_from(data: Option<&Value>, base64: Option<&Value>) -> Vec<u8> {
    match (data, base64) {
        (Some(Value::Object(_)), _) => serde_json::to_vec(data.unwrap()).expect("serializing"),
        (Some(Value::Null) | None, None) => b"{}".to_vec(),
        (Some(Value::Null) | None, Some(b)) => {
            serde_json::to_vec(&serde_json::json!({ "data_base64": b })).expect("serializing")
        }
        (Some(other), _) => {
            serde_json::to_vec(&serde_json::json!({ "data": other })).expect("serializing")
        }
    }
}

fn structured_value(
    value: Value,
    limits: &EventLimits,
    received: SystemTime,
    at: &str,
) -> Result<Incoming, Problem> {
    let Value::Object(mut attrs) = value else {
        return Err(bad(format!(
            "{at}a structured CloudEvent must be a JSON object, found {}",
            type_name(&value)
        )));
    };
    let detail = detail_from(attrs.get("data"), attrs.get("data_base64"));
    if !attrs.contains_key("datacontenttype") && attrs.contains_key("data") {
        attrs.insert("datacontenttype".into(), Value::from("application/json"));
    }
    map_event(&attrs, detail, limits, received, at)
}

/// A header value given as an RFC 7230 quoted-string (`"a \"b\""`) is read
/// without its quotes and escapes, as the HTTP binding asks; others as they are.
fn unquote(raw: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.into();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out.into()
}

/// Reads a body as JSON. switchyard's own reader, not serde_json's, whose fixed
/// limit of 128 levels would cut `limits.max_event_depth` short; its bound here
/// only keeps recursion safe (the deepest configurable data in a batch), and the
/// data's depth is checked against the configured limit with the detail.
fn parse_json(body: &[u8], what: &str) -> Result<Value, Problem> {
    let tree = crate::json::parse_bytes(body, crate::config::MAX_EVENT_DEPTH + 3)
        .map_err(|e| bad(format!("{what} is not valid JSON: {e}")))?;
    to_value(&tree).map_err(|e| bad(format!("{what} is not valid JSON: {e}")))
}

/// A tree as a serde_json value (a repeated key keeps its last value).
fn to_value(json: &crate::json::Json) -> Result<Value, String> {
    use crate::json::JsonValue;
    Ok(match &json.value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Number(text) => serde_json::from_str::<serde_json::Number>(text)
            .map(Value::Number)
            .map_err(|_| format!("the number {text} is out of range"))?,
        JsonValue::String(s) => Value::String(s.clone()),
        JsonValue::Array(items) => {
            Value::Array(items.iter().map(to_value).collect::<Result<_, _>>()?)
        }
        JsonValue::Object(members) => {
            let mut map = Map::with_capacity(members.len());
            for m in members {
                map.insert(m.key.clone(), to_value(&m.value)?);
            }
            Value::Object(map)
        }
    })
}

fn structured(
    body: &[u8],
    limits: &EventLimits,
    received: SystemTime,
) -> Result<Incoming, Problem> {
    let value = parse_json(body, "the structured CloudEvent")?;
    structured_value(value, limits, received, "")
}

fn batch(
    body: &[u8],
    limits: &EventLimits,
    received: SystemTime,
) -> Result<Vec<Incoming>, Problem> {
    let value = parse_json(body, "the CloudEvents batch")?;
    let Value::Array(items) = value else {
        return Err(bad(format!(
            "a CloudEvents batch must be a JSON array, found {}",
            type_name(&value)
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| structured_value(item, limits, received, &format!("event [{i}]: ")))
        .collect()
}

fn binary(
    headers: &HeaderMap,
    media: &str,
    body: &[u8],
    limits: &EventLimits,
    received: SystemTime,
) -> Result<Incoming, Problem> {
    let mut attrs = Map::new();
    for (name, value) in headers {
        let Some(attr) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        let raw = value
            .to_str()
            .map_err(|_| bad(format!("header {name} is not visible ASCII")))?;
        let unquoted = unquote(raw);
        let decoded = percent_encoding::percent_decode_str(&unquoted)
            .decode_utf8()
            .map_err(|_| bad(format!("header {name} is not UTF-8 once percent-decoded")))?;
        attrs.insert(attr.to_string(), Value::from(decoded.into_owned()));
    }
    let is_json = media.is_empty() || media == "application/json" || media.ends_with("+json");
    let detail = if body.is_empty() {
        b"{}".to_vec()
    } else if is_json {
        let data = parse_json(body, "the event data")?;
        detail_from(Some(&data), None)
    } else if media.starts_with("text/") {
        let text = std::str::from_utf8(body).map_err(|_| bad("text data is not UTF-8"))?;
        detail_from(Some(&Value::from(text)), None)
    } else {
        return Err(Problem {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: format!(
                "cannot read data of content type {media:?}: binary-mode data must be JSON or text"
            ),
        });
    };
    if !media.is_empty() {
        attrs.insert("datacontenttype".into(), Value::from(media));
    } else if !body.is_empty() {
        // Data without a Content-Type was read as JSON: record it so, as structured
        // mode does for data without `datacontenttype`, so that one event routes
        // the same in both modes (the Python SDK's binary mode sends no
        // Content-Type for JSON data).
        attrs.insert("datacontenttype".into(), Value::from("application/json"));
    }
    map_event(&attrs, detail, limits, received, "")
}
