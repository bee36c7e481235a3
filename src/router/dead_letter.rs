//! Dead letters: what happens to a delivery that will not succeed, so that no
//! event is ever lost silently.
//!
//! A [`DeadLetterRecord`] holds the original event, the payload that was to be
//! sent, and EventBridge's DLQ message attributes (`RULE_ARN`, `TARGET_ID`,
//! `ERROR_CODE`, `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION`, `RETRY_ATTEMPTS`).
//! [`DeadLetter::settle`] writes it to the destination (a few quick tries) and
//! finishes the delivery's completion; without a destination, or when writing
//! fails, the whole record is logged at error level instead.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use serde::Serialize;

use super::completion::{Completion, Outcome};
use crate::event::Event;
use crate::targets::{Attempt, Target};

/// Why a delivery ended in the dead-letter path.
#[derive(Debug, Clone)]
pub struct Failure {
    pub error_code: &'static str,
    pub error_message: String,
    /// `MaximumRetryAttempts` or `MaximumEventAgeInSeconds` when retries ran out.
    pub exhausted_retry_condition: Option<&'static str>,
    /// Retries made after the first attempt.
    pub retry_attempts: u32,
}

impl Failure {
    /// A failure before any delivery attempt (matching, shaping, a plugin).
    pub fn now(error_code: &'static str, error_message: String) -> Failure {
        Failure {
            error_code,
            error_message,
            exhausted_retry_condition: None,
            retry_attempts: 0,
        }
    }
}

#[derive(Serialize)]
struct Attributes<'a> {
    #[serde(rename = "RULE_ARN")]
    rule_arn: Option<&'a str>,
    #[serde(rename = "TARGET_ID")]
    target_id: Option<&'a str>,
    #[serde(rename = "ERROR_CODE")]
    error_code: &'a str,
    #[serde(rename = "ERROR_MESSAGE")]
    error_message: &'a str,
    #[serde(rename = "EXHAUSTED_RETRY_CONDITION")]
    exhausted_retry_condition: Option<&'a str>,
    #[serde(rename = "RETRY_ATTEMPTS")]
    retry_attempts: u32,
}

/// One dead letter, ready to be written.
pub struct DeadLetterRecord<'a> {
    pub event: &'a Arc<Event>,
    pub payload: Option<&'a [u8]>,
    pub rule_arn: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub failure: &'a Failure,
}

impl DeadLetterRecord<'_> {
    /// EventBridge's dead-letter attributes as (name, text) pairs, for
    /// destinations that carry them beside the event (Kafka headers). Absent
    /// ones are left out.
    pub fn attributes(&self) -> Vec<(&'static str, String)> {
        let f = self.failure;
        let mut out = Vec::with_capacity(6);
        if let Some(arn) = self.rule_arn {
            out.push(("RULE_ARN", arn.to_string()));
        }
        if let Some(id) = self.target_id {
            out.push(("TARGET_ID", id.to_string()));
        }
        out.push(("ERROR_CODE", f.error_code.to_string()));
        out.push(("ERROR_MESSAGE", f.error_message.clone()));
        if let Some(condition) = f.exhausted_retry_condition {
            out.push(("EXHAUSTED_RETRY_CONDITION", condition.to_string()));
        }
        out.push(("RETRY_ATTEMPTS", f.retry_attempts.to_string()));
        out
    }

    /// `{"attributes": {...}, "event": <the envelope>, "payload": "<text>"}` on one line.
    pub fn to_json(&self) -> Vec<u8> {
        let attributes = Attributes {
            rule_arn: self.rule_arn,
            target_id: self.target_id,
            error_code: self.failure.error_code,
            error_message: &self.failure.error_message,
            exhausted_retry_condition: self.failure.exhausted_retry_condition,
            retry_attempts: self.failure.retry_attempts,
        };
        let mut out = b"{\"attributes\":".to_vec();
        serde_json::to_writer(&mut out, &attributes).expect("serializing attributes");
        out.extend_from_slice(b",\"event\":");
        out.extend_from_slice(&self.event.json);
        if let Some(payload) = self.payload {
            out.extend_from_slice(b",\"payload\":");
            let text = String::from_utf8_lossy(payload);
            serde_json::to_writer(&mut out, &*text).expect("serializing the payload");
        }
        out.push(b'}');
        out
    }
}

/// A dead-letter destination (or none), with its counters.
#[derive(Clone)]
pub struct DeadLetter {
    pub target: Option<Arc<dyn Target>>,
    pub sent: Counter,
    pub failed: Counter,
}

impl DeadLetter {
    /// Writes the record (or logs it) and finishes the completion accordingly.
    pub async fn settle(&self, record: DeadLetterRecord<'_>, completion: Completion) {
        let line = Bytes::from(record.to_json());
        let Some(target) = &self.target else {
            log_given_up(&record, "no dead-letter destination is configured");
            completion.finish(Outcome::GivenUp);
            return;
        };
        let attributes = record.attributes();
        let mut last_error = String::new();
        for number in 1..=3 {
            let attempt = Attempt {
                payload: &line,
                event: record.event,
                completion: &completion,
                number,
                dead_letter: Some(&attributes),
            };
            match target.deliver(attempt).await {
                Ok(()) => {
                    self.sent.inc();
                    tracing::warn!(
                        event_id = %record.event.id,
                        rule_arn = record.rule_arn,
                        target = record.target_id,
                        error_code = record.failure.error_code,
                        "sent to the dead-letter destination: {}",
                        record.failure.error_message
                    );
                    completion.finish(Outcome::DeadLettered);
                    return;
                }
                Err(e) => last_error = format!("{}: {}", e.code, e.message),
            }
            if number < 3 {
                tokio::time::sleep(Duration::from_millis(50 * u64::from(number))).await;
            }
        }
        self.failed.inc();
        log_given_up(
            &record,
            &format!("writing to the dead-letter destination failed: {last_error}"),
        );
        completion.finish(Outcome::GivenUp);
    }
}

fn log_given_up(record: &DeadLetterRecord<'_>, why: &str) {
    tracing::error!(
        event_id = %record.event.id,
        rule_arn = record.rule_arn,
        target = record.target_id,
        error_code = record.failure.error_code,
        error_message = %record.failure.error_message,
        exhausted_retry_condition = record.failure.exhausted_retry_condition,
        retry_attempts = record.failure.retry_attempts,
        record = %String::from_utf8_lossy(&record.to_json()),
        "delivery given up ({why})"
    );
}
