//! `switchyard bench`: measurements a user can repeat on their own machine.
//!
//! `match` loads patterns and events from JSON Lines files, compiles the patterns
//! into the matcher and times passes over the events; `citylots` generates the
//! benchmark's events and pattern families (also used by `cargo bench`);
//! `ceiling` is the no-routing HTTP ingest server for the gateway benchmark;
//! `plugins` times Wasm plugin calls against native Rust; `kafka` is the raw
//! consume-then-produce loop the Kafka benchmark compares with. Nothing
//! here is on the product's hot path.

pub mod ceiling;
pub mod citylots;
pub mod kafka;
pub mod plugins;

use std::time::Instant;

use crate::json::{self, JsonValue};
use crate::pattern::{CheckedEvent, CompiledMatcher, EventLimits, Pattern, PatternLimits};

/// The result of `bench match`, printed as one JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchReport {
    pub patterns: usize,
    pub rejected: usize,
    pub events: usize,
    pub passes: usize,
    pub matches_per_pass: usize,
    pub events_per_sec: f64,
    pub ns_per_event: f64,
    /// The same passes over events validated beforehand (as ingest does), so
    /// matching skips what patterns do not name without validating it.
    pub checked_ns_per_event: f64,
    pub add_seconds: f64,
    /// Resident memory added by compiling the patterns, per pattern (Linux only).
    pub memory_bytes_per_pattern: Option<f64>,
}

impl MatchReport {
    pub fn to_json_line(&self) -> String {
        format!(
            r#"{{"engine":"switchyard","patterns":{},"rejected":{},"events":{},"passes":{},"matches_per_pass":{},"events_per_sec":{:.0},"ns_per_event":{:.1},"add_seconds":{:.6},"checked_ns_per_event":{:.1},"memory_bytes_per_pattern":{}}}"#,
            self.patterns,
            self.rejected,
            self.events,
            self.passes,
            self.matches_per_pass,
            self.events_per_sec,
            self.ns_per_event,
            self.add_seconds,
            self.checked_ns_per_event,
            self.memory_bytes_per_pattern
                .map_or("null".to_string(), |m| format!("{m:.0}"))
        )
    }
}

/// Reads `{"id", "pattern"}` lines; returns (id text, pattern JSON text) pairs or
/// an error naming the line.
pub fn read_pattern_lines(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let doc = json::parse(line, 256).map_err(|e| format!("patterns line {}: {e}", n + 1))?;
        let JsonValue::Object(members) = &doc.value else {
            return Err(format!(
                "patterns line {}: expected {{\"id\", \"pattern\"}}",
                n + 1
            ));
        };
        let get = |k: &str| members.iter().find(|m| m.key == k).map(|m| &m.value);
        let (Some(id), Some(pattern)) = (get("id"), get("pattern")) else {
            return Err(format!(
                "patterns line {}: needs \"id\" and \"pattern\"",
                n + 1
            ));
        };
        let id = match &id.value {
            JsonValue::String(s) => s.clone(),
            _ => id.to_string(),
        };
        // A pattern given as a JSON string holds the pattern text (API style).
        let pattern = match &pattern.value {
            JsonValue::String(s) => s.clone(),
            _ => line[pattern.span.start..pattern.span.end].to_string(),
        };
        out.push((id, pattern));
    }
    Ok(out)
}

/// Resident set size of this process in bytes, where the OS tells.
fn resident_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0)
}

/// Compiles the patterns, then runs one warm-up pass and `passes` timed passes.
pub fn run_match(patterns: &[(String, String)], events: &[Vec<u8>], passes: usize) -> MatchReport {
    let rss_before = resident_bytes();
    let started = Instant::now();
    let mut matcher = CompiledMatcher::default();
    let mut rejected = 0;
    let limits = PatternLimits {
        max_bytes: usize::MAX,
        ..PatternLimits::default()
    };
    for (id, text) in patterns {
        match Pattern::parse_with(text, &limits) {
            Ok(p) => matcher.add(id.clone(), p),
            Err(_) => rejected += 1,
        }
    }
    let add_seconds = started.elapsed().as_secs_f64();
    let accepted = patterns.len() - rejected;
    let memory_bytes_per_pattern = match (rss_before, resident_bytes()) {
        (Some(before), Some(after)) if accepted > 0 => {
            Some((after - before).max(0.0) / accepted as f64)
        }
        _ => None,
    };
    let pass = |matcher: &CompiledMatcher<String>| -> usize {
        events
            .iter()
            .map(|e| matcher.matches(e).map_or(0, |ids| ids.len()))
            .sum()
    };
    let matches_per_pass = pass(&matcher);
    let started = Instant::now();
    for _ in 0..passes {
        std::hint::black_box(pass(&matcher));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = (events.len() * passes) as f64;
    let checked: Vec<CheckedEvent<'_>> = events
        .iter()
        .filter_map(|e| CheckedEvent::check(e, &EventLimits::default()).ok())
        .collect();
    let started = Instant::now();
    for _ in 0..passes {
        let n: usize = checked
            .iter()
            .map(|e| matcher.matches_checked(e).map_or(0, |ids| ids.len()))
            .sum();
        std::hint::black_box(n);
    }
    let checked_elapsed = started.elapsed().as_secs_f64();
    let checked_total = (checked.len() * passes) as f64;
    MatchReport {
        patterns: patterns.len(),
        rejected,
        events: events.len(),
        passes,
        matches_per_pass,
        events_per_sec: if elapsed > 0.0 { total / elapsed } else { 0.0 },
        ns_per_event: if total > 0.0 {
            elapsed * 1e9 / total
        } else {
            0.0
        },
        checked_ns_per_event: if checked_total > 0.0 {
            checked_elapsed * 1e9 / checked_total
        } else {
            0.0
        },
        add_seconds,
        memory_bytes_per_pattern,
    }
}
