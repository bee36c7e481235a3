//! The `EventBus` target: the event is put on another bus of this switchyard and
//! routed again.
//!
//! The forwarded event keeps its id and carries a hop count beside the envelope
//! (not in it, so what targets receive stays EventBridge's shape). Past the
//! router's hop limit the delivery fails for good (`HopLimitExceeded`) and goes
//! to the dead-letter destination, so a rule that feeds its own bus, directly or
//! in a cycle, cannot loop forever. The forwarded event holds a piece of this
//! delivery's completion: the original resolves only when the next hop's
//! deliveries are done.

use std::sync::Arc;

use serde::Deserialize;

use super::{Attempt, BoxFuture, DeliveryError, Target};
use crate::event::Event;
use crate::pattern::CheckedEvent;
use crate::router::Ingest;

pub struct BusTarget {
    bus: String,
    ingest: Ingest,
}

impl BusTarget {
    pub fn new(bus: String, ingest: Ingest) -> BusTarget {
        BusTarget { bus, ingest }
    }
}

#[derive(Deserialize)]
struct Header {
    id: Option<String>,
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
}

impl Target for BusTarget {
    fn deliver<'a>(&'a self, attempt: Attempt<'a>) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let original = attempt.event;
            let hops = original.hops + 1;
            if hops > self.ingest.max_hops() {
                return Err(DeliveryError::permanent(
                    "HopLimitExceeded",
                    format!(
                        "event {} has been put on another bus {} times (limit {}): do rules feed their own bus in a cycle?",
                        original.id,
                        original.hops,
                        self.ingest.max_hops()
                    ),
                ));
            }
            let payload = attempt.payload;
            let (id, source, detail_type) = if payload.as_ptr() == original.json.as_ptr() {
                (
                    original.id.clone(),
                    original.source.clone(),
                    original.detail_type.clone(),
                )
            } else {
                CheckedEvent::check(payload, &self.ingest.event_limits()).map_err(|e| {
                    DeliveryError::permanent(
                        "PayloadNotAnEvent",
                        format!("the shaped input cannot be put on bus {}: {e}", self.bus),
                    )
                })?;
                let h: Header = serde_json::from_slice(payload)
                    .map_err(|e| DeliveryError::permanent("PayloadNotAnEvent", e.to_string()))?;
                (
                    h.id.unwrap_or_else(|| original.id.clone()),
                    h.source.unwrap_or_default(),
                    h.detail_type.unwrap_or_default(),
                )
            };
            let event = Event {
                id,
                bus: self.bus.clone(),
                source,
                detail_type,
                json: payload.clone(),
                received: original.received,
                // Age (MaximumEventAgeInSeconds, latency) counts from the first ingest.
                received_at: original.received_at,
                hops,
            };
            // Routed on this task; the original's admission covers it.
            self.ingest
                .submit(Arc::new(event), attempt.completion.split());
            Ok(())
        })
    }
}
