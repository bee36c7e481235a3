//! The event as it travels from a source to its targets: the EventBridge envelope
//! bytes, built and validated once at ingest, plus what the router needs beside
//! them (bus, ingestion time, hop count).
//!
//! It owns the envelope's shape (EventBridge's keys, in EventBridge's order) and
//! its time format. It does not read requests (`sources`) or match (`router`).

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::pattern::CheckedEvent;

/// One routed event. Shared (`Arc`) between all the deliveries it fans out to.
#[derive(Debug)]
pub struct Event {
    /// The envelope's `id` (the `EventId` PutEvents returned).
    pub id: String,
    /// The bus it was put on.
    pub bus: String,
    pub source: String,
    pub detail_type: String,
    /// The envelope JSON, validated: matching trusts it and skips re-checking.
    pub json: Bytes,
    /// When switchyard accepted it (`<aws.events.event.ingestion-time>`).
    pub received: SystemTime,
    /// The same moment on the monotonic clock, for latency metrics.
    pub received_at: Instant,
    /// How many `EventBus` targets have forwarded it.
    pub hops: u32,
}

impl Event {
    /// The envelope as a checked event. Every `Event` is built from validated
    /// parts (`build_envelope`) or checked by its source, so this cannot fail.
    pub fn checked(&self) -> CheckedEvent<'_> {
        CheckedEvent::trusted(&self.json)
    }

    /// How long since ingest.
    pub fn age(&self) -> std::time::Duration {
        self.received_at.elapsed()
    }
}

/// The fields of an envelope; `detail` must already be a validated JSON object.
pub struct EnvelopeFields<'a> {
    pub id: &'a str,
    pub detail_type: &'a str,
    pub source: &'a str,
    pub account: &'a str,
    pub time: &'a str,
    pub region: &'a str,
    pub resources: &'a [String],
    pub detail: &'a [u8],
    /// What the source knows beyond the envelope's fields, as a last key
    /// where patterns can match it: `("cloudevents", {...})` for CloudEvents
    /// attributes with no envelope field (`specversion`, `datacontenttype`,
    /// `dataschema`, extensions), `("kafka", {...})` for a Kafka message's
    /// topic, partition, offset, key, headers and timestamp.
    pub extension: Option<(&'static str, &'a [u8])>,
}

/// The envelope EventBridge delivers, keys in its order: `version`, `id`,
/// `detail-type`, `source`, `account`, `time`, `region`, `resources`, `detail`.
pub fn build_envelope(f: &EnvelopeFields<'_>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(f.detail.len() + 256);
    bytes.extend_from_slice(b"{\"version\":\"0\"");
    let strings: [(&[u8], &str); 6] = [
        (b",\"id\":", f.id),
        (b",\"detail-type\":", f.detail_type),
        (b",\"source\":", f.source),
        (b",\"account\":", f.account),
        (b",\"time\":", f.time),
        (b",\"region\":", f.region),
    ];
    for (key, value) in strings {
        bytes.extend_from_slice(key);
        push_json_string(&mut bytes, value);
    }
    bytes.extend_from_slice(b",\"resources\":[");
    for (i, r) in f.resources.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        push_json_string(&mut bytes, r);
    }
    bytes.extend_from_slice(b"],\"detail\":");
    bytes.extend_from_slice(f.detail);
    if let Some((key, value)) = f.extension {
        bytes.extend_from_slice(b",\"");
        bytes.extend_from_slice(key.as_bytes());
        bytes.extend_from_slice(b"\":");
        bytes.extend_from_slice(value);
    }
    bytes.push(b'}');
    bytes
}

fn push_json_string(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping, written in place.
    serde_json::to_writer(out, s).expect("writing to a Vec cannot fail");
}

/// Whether an envelope can carry `t`: its UTC year has four digits (1 to
/// 9999). Sources refuse other times, so `format_time` never sees them.
pub fn representable(t: SystemTime) -> bool {
    utc(t).is_some()
}

fn utc(t: SystemTime) -> Option<OffsetDateTime> {
    let since = |later: SystemTime, earlier: SystemTime| {
        later
            .duration_since(earlier)
            .ok()
            .and_then(|d| time::Duration::try_from(d).ok())
    };
    let at = match since(t, SystemTime::UNIX_EPOCH) {
        Some(after) => OffsetDateTime::UNIX_EPOCH.checked_add(after),
        None => OffsetDateTime::UNIX_EPOCH.checked_sub(since(SystemTime::UNIX_EPOCH, t)?),
    }?;
    four_digit_year(at).then_some(at)
}

/// Whether `t`'s UTC year is 1 to 9999, what `time` in an envelope can hold.
fn four_digit_year(t: OffsetDateTime) -> bool {
    // `to_offset` would panic where the UTC year leaves the range `time` holds.
    t.checked_to_offset(time::UtcOffset::UTC)
        .is_some_and(|utc| (1..=9999).contains(&utc.year()))
}

/// `YYYY-MM-DDTHH:MM:SSZ`, EventBridge's `time` format (seconds, UTC). A time
/// past what the format holds (see [`representable`]) is written as its limit.
pub fn format_time(t: SystemTime) -> String {
    let t = utc(t).unwrap_or_else(|| {
        if t > SystemTime::UNIX_EPOCH {
            time::macros::datetime!(9999-12-31 23:59:59 UTC)
        } else {
            time::macros::datetime!(0001-01-01 00:00:00 UTC)
        }
    });
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads an RFC 3339 timestamp (any offset) as a point in time.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .filter(|t| four_digit_year(*t))
        .map(SystemTime::from)
}

/// Epoch seconds (integer or fractional, as SDKs send `Time`) as a point in time.
pub fn from_epoch_seconds(seconds: f64) -> Option<SystemTime> {
    if !seconds.is_finite() {
        return None;
    }
    let nanos = (seconds * 1e9) as i128;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .filter(|t| four_digit_year(*t))
        .map(SystemTime::from)
}

/// A new event id: a random (v4) UUID, as EventBridge's.
pub fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_keys_in_eventbridge_order() {
        let env = build_envelope(&EnvelopeFields {
            id: "1",
            detail_type: "T \"q\"",
            source: "s",
            account: "123",
            time: "2024-01-01T00:00:00Z",
            region: "eu-west-1",
            resources: &["arn:a".into()],
            detail: br#"{"a":1}"#,
            extension: None,
        });
        assert_eq!(
            std::str::from_utf8(&env).unwrap(),
            r#"{"version":"0","id":"1","detail-type":"T \"q\"","source":"s","account":"123","time":"2024-01-01T00:00:00Z","region":"eu-west-1","resources":["arn:a"],"detail":{"a":1}}"#
        );
    }

    #[test]
    fn times() {
        let t = from_epoch_seconds(1_700_000_000.75).unwrap();
        assert_eq!(format_time(t), "2023-11-14T22:13:20Z");
        let t = parse_rfc3339("2023-11-14T23:13:20+01:00").unwrap();
        assert_eq!(format_time(t), "2023-11-14T22:13:20Z");
        assert!(parse_rfc3339("yesterday").is_none());
        assert!(from_epoch_seconds(f64::NAN).is_none());
    }

    #[test]
    fn only_four_digit_utc_years_are_times() {
        // Valid RFC 3339 whose UTC instant leaves years 1..=9999.
        assert!(parse_rfc3339("9999-12-31T23:59:59-01:00").is_none());
        assert!(parse_rfc3339("0000-01-01T00:30:00+01:00").is_none());
        assert!(from_epoch_seconds(1e12).is_none());
        assert!(from_epoch_seconds(-1e12).is_none());
        let last = parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
        assert_eq!(format_time(last), "9999-12-31T23:59:59Z");
        let first = parse_rfc3339("0001-01-01T00:00:00Z").unwrap();
        assert_eq!(format_time(first), "0001-01-01T00:00:00Z");
        let before_epoch = from_epoch_seconds(-86_400.0).unwrap();
        assert_eq!(format_time(before_epoch), "1969-12-31T00:00:00Z");
        // Never a panic, whatever a caller passes.
        let far = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 40);
        assert!(!representable(far));
        assert_eq!(format_time(far), "9999-12-31T23:59:59Z");
    }
}
