//! `switchyard bench ingest-ceiling`: the ceiling that `serve`'s PutEvents → file
//! throughput is measured against. The same HTTP stack (axum on hyper, tokio),
//! the same request parsing (serde), the same `Detail` validation and envelope
//! building, the same JSON Lines writer, answered on acceptance as `serve` does,
//! but no admission, no matching, no queues and no fan-out. Nothing else uses it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;

use crate::config::FsyncPolicy;
use crate::event::{self, EnvelopeFields, build_envelope};
use crate::pattern::{CheckedEvent, EventLimits};
use crate::targets::lines::{LineWriter, SyncPolicy};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    source: String,
    detail_type: String,
    detail: String,
    #[serde(default)]
    resources: Vec<String>,
}

/// Serves the ceiling until the process is killed.
pub async fn run(listen: &str, out: PathBuf) -> Result<(), String> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out)
        .map_err(|e| format!("cannot open {}: {e}", out.display()))?;
    let writer = Arc::new(LineWriter::file(
        out.display().to_string(),
        file,
        SyncPolicy {
            policy: FsyncPolicy::Os,
            interval: std::time::Duration::from_secs(1),
        },
    ));
    let app = axum::Router::new().fallback(handle).with_state(writer);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    eprintln!(
        "ingest ceiling listening on http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

async fn handle(State(writer): State<Arc<LineWriter>>, body: Bytes) -> String {
    let Ok(request) = serde_json::from_slice::<Request>(&body) else {
        return "{\"__type\":\"SerializationException\"}".into();
    };
    let limits = EventLimits::default();
    let time = event::format_time(SystemTime::now());
    let mut ids = Vec::with_capacity(request.entries.len());
    for entry in &request.entries {
        if CheckedEvent::check(entry.detail.as_bytes(), &limits).is_err() {
            continue;
        }
        let id = event::new_event_id();
        let line = build_envelope(&EnvelopeFields {
            id: &id,
            detail_type: &entry.detail_type,
            source: &entry.source,
            account: "000000000000",
            time: &time,
            region: "us-east-1",
            resources: &entry.resources,
            detail: entry.detail.as_bytes(),
            extension: None,
        });
        let writer = writer.clone();
        tokio::spawn(async move { writer.write(line.into()).await });
        ids.push(format!("{{\"EventId\":\"{id}\"}}"));
    }
    format!("{{\"FailedEntryCount\":0,\"Entries\":[{}]}}", ids.join(","))
}
