//! `cloudevents`: converts an EventBridge envelope into a CloudEvents 1.0
//! event in structured-mode JSON (`application/cloudevents+json`).
//!
//! Config: none (`{}`).
//!
//! Mapping:
//!
//! | CloudEvents       | EventBridge                           |
//! |-------------------|---------------------------------------|
//! | `specversion`     | `"1.0"`                               |
//! | `id`              | `id` (required)                       |
//! | `source`          | `source` (required)                   |
//! | `type`            | `detail-type` (required)              |
//! | `time`            | `time`, if present                    |
//! | `subject`         | the first of `resources`, if any      |
//! | `datacontenttype` | `"application/json"`                  |
//! | `data`            | `detail`, if present                  |
//! | `account`, `region` (extensions) | `account`, `region`, if present |
//!
//! An event lacking `id`, `source` or `detail-type` (as strings) is rejected.

use switchyard_plugin::{Config, Delivery, Event, Map, Outputs, Plugin, TransformError, Value};

/// Holds nothing.
pub struct CloudEvents;

fn required<'a>(envelope: &'a Map<String, Value>, key: &str) -> Result<&'a str, TransformError> {
    envelope.get(key).and_then(Value::as_str).ok_or_else(|| {
        TransformError::reject(format!(
            "cloudevents: the event has no string {key:?}: is it an EventBridge envelope?"
        ))
    })
}

/// The CloudEvents 1.0 structured-mode object for one envelope.
pub fn convert(envelope: Map<String, Value>) -> Result<Map<String, Value>, TransformError> {
    let mut ce = Map::new();
    ce.insert("specversion".into(), "1.0".into());
    ce.insert("id".into(), required(&envelope, "id")?.into());
    ce.insert("source".into(), required(&envelope, "source")?.into());
    ce.insert("type".into(), required(&envelope, "detail-type")?.into());
    if let Some(time) = envelope.get("time").and_then(Value::as_str) {
        ce.insert("time".into(), time.into());
    }
    let subject = envelope
        .get("resources")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(Value::as_str);
    if let Some(subject) = subject {
        ce.insert("subject".into(), subject.into());
    }
    ce.insert("datacontenttype".into(), "application/json".into());
    // Extension attributes: lowercase alphanumeric names, string values.
    for ext in ["account", "region"] {
        if let Some(v) = envelope.get(ext).and_then(Value::as_str) {
            ce.insert(ext.into(), v.into());
        }
    }
    let mut envelope = envelope;
    if let Some(detail) = envelope.shift_remove("detail") {
        ce.insert("data".into(), detail);
    }
    Ok(ce)
}

impl Plugin for CloudEvents {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(CloudEvents)
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        match event.into_json()? {
            Value::Object(envelope) => Ok(Outputs::one(Value::Object(convert(envelope)?))),
            _ => Err(TransformError::reject(
                "cloudevents: the event is not a JSON object",
            )),
        }
    }
}

switchyard_plugin::export_plugin!(CloudEvents);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::json;
    use switchyard_plugin::testing::Harness;

    const ENVELOPE: &str = r#"{"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "arn:other"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}}"#;

    #[test]
    fn converts_a_full_envelope() {
        let mut h = Harness::<CloudEvents>::new("{}");
        let out = h.transform(ENVELOPE).unwrap();
        assert_eq!(
            out,
            [json!({
                "specversion": "1.0",
                "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                "source": "aws.ec2",
                "type": "EC2 Instance State-change Notification",
                "time": "2017-12-22T18:43:48Z",
                "subject": "arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0",
                "datacontenttype": "application/json",
                "account": "111122223333",
                "region": "us-west-1",
                "data": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
            })]
        );
        // Extension names must be lowercase alphanumeric (CloudEvents 1.0).
        for key in out[0].as_object().unwrap().keys() {
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{key}"
            );
        }
    }

    #[test]
    fn optional_fields_are_left_out() {
        let mut h = Harness::<CloudEvents>::new("{}");
        let out = h
            .transform(r#"{"id": "1", "source": "s", "detail-type": "t", "resources": []}"#)
            .unwrap();
        assert_eq!(
            out,
            [
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t",
                    "datacontenttype": "application/json"})
            ]
        );
    }

    #[test]
    fn rejects_non_envelopes() {
        let mut h = Harness::<CloudEvents>::new("{}");
        let err = h.transform(r#"{"id": "1", "source": "s"}"#).unwrap_err();
        assert_eq!(
            err,
            TransformError::reject(
                r#"cloudevents: the event has no string "detail-type": is it an EventBridge envelope?"#
            )
        );
        assert!(h.transform("[1]").unwrap_err().is_reject());
        assert!(
            h.transform(r#"{"id": 1, "source": "s", "detail-type": "t"}"#)
                .is_err()
        );
    }
}
