//! `switchyard test-pattern`: one pattern against one event, or a JSON Lines batch.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use crate::json::{self, Json, JsonValue, line_col};
use crate::pattern::event::read_event;
use crate::pattern::{EventLimits, Pattern, PatternError, PatternLimits};

use super::input::{open_lines, read_json_arg};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event pattern: a file path, inline JSON, or - for standard input.
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pattern: Option<String>,
    /// The event: a file path, inline JSON, or - for standard input.
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    event: Option<String>,
    /// On a non-match, explain which fields and operators failed and why.
    #[arg(long)]
    explain: bool,
    /// JSON Lines of {"id", "pattern", "event"} (a file, or - for standard input);
    /// prints one {"id", "result", "error"?} line per case, in order.
    #[arg(long, value_name = "FILE")]
    batch: Option<String>,
    /// Highest wildcard complexity a pattern may have on one field (EventBridge
    /// rejects more than 10 as "Rule is too complex").
    #[arg(long, value_name = "N", default_value_t = PatternLimits::default().max_wildcard_complexity)]
    max_wildcard_complexity: usize,
}

pub fn run(args: &Args) -> ExitCode {
    let limits = PatternLimits {
        max_wildcard_complexity: args.max_wildcard_complexity,
        ..PatternLimits::default()
    };
    match &args.batch {
        Some(batch) => run_batch(batch, args.explain, &limits),
        None => run_one(
            args.pattern.as_deref().unwrap_or_default(),
            args.event.as_deref().unwrap_or_default(),
            args.explain,
            &limits,
        ),
    }
}

/// Describes an invalid pattern, with line and column when the text has several
/// lines or the error is not about the whole pattern.
fn describe_pattern_error(text: &str, e: &PatternError) -> String {
    let (line, column) = line_col(text, e.span.start);
    if e.location.is_empty() && e.message.contains(" at line ") {
        e.to_string()
    } else {
        format!("{e} (line {line}, column {column})")
    }
}

fn run_one(pattern_arg: &str, event_arg: &str, explain: bool, limits: &PatternLimits) -> ExitCode {
    let invalid = |message: String| {
        eprintln!("{message}");
        ExitCode::from(2)
    };
    let pattern_text = match read_json_arg(pattern_arg, "pattern") {
        Ok(t) => t,
        Err(e) => return invalid(e),
    };
    let pattern = match Pattern::parse_with(&pattern_text, limits) {
        Ok(p) => p,
        Err(e) => {
            return invalid(format!(
                "invalid pattern: {}",
                describe_pattern_error(&pattern_text, &e)
            ));
        }
    };
    let event_text = match read_json_arg(event_arg, "event") {
        Ok(t) => t,
        Err(e) => return invalid(e),
    };
    let event = match read_event(event_text.as_bytes(), &EventLimits::default()) {
        Ok(ev) => ev,
        Err(e) => return invalid(format!("invalid event: {e}")),
    };
    match pattern.explain_within(&event, &EventLimits::default()) {
        Err(e) => invalid(format!("invalid event: {e}")),
        Ok(None) => {
            println!("match");
            ExitCode::SUCCESS
        }
        Ok(Some(why)) => {
            println!("no match");
            if explain {
                println!("{why}");
            }
            ExitCode::from(1)
        }
    }
}

/// The outcome of one batch case.
struct Outcome {
    result: &'static str,
    error: Option<String>,
    explanation: Option<String>,
}

impl Outcome {
    fn invalid(error: String) -> Outcome {
        Outcome {
            result: "invalid",
            error: Some(error),
            explanation: None,
        }
    }
}

fn run_batch(path: &str, explain: bool, limits: &PatternLimits) -> ExitCode {
    let lines = match open_lines(path) {
        Ok(lines) => lines,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (number, line) in lines.lines().enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("cannot read line {} of \"{path}\": {e}", number + 1);
                return ExitCode::from(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let (id, outcome) = batch_case(&line, number + 1, explain, limits);
        // Written by hand to keep the documented field order: id, result, error.
        let mut record = format!("{{\"id\":{id},\"result\":\"{}\"", outcome.result);
        for (name, value) in [
            ("error", outcome.error),
            ("explanation", outcome.explanation),
        ] {
            if let Some(value) = value {
                record.push_str(&format!(",\"{name}\":{}", serde_json::Value::String(value)));
            }
        }
        record.push('}');
        if writeln!(out, "{record}").is_err() {
            return ExitCode::from(2); // stdout closed: nobody is reading
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// Runs one `{"id", "pattern", "event"}` line; returns the id to echo and the result.
fn batch_case(
    line: &str,
    number: usize,
    explain: bool,
    limits: &PatternLimits,
) -> (String, Outcome) {
    let doc = match json::parse(line, 256) {
        Ok(doc) => doc,
        Err(e) => {
            return (
                "null".to_string(),
                Outcome::invalid(format!("line {number} is not valid JSON: {e}")),
            );
        }
    };
    let JsonValue::Object(members) = &doc.value else {
        return (
            "null".to_string(),
            Outcome::invalid(format!(
                "line {number} must be an object {{\"id\", \"pattern\", \"event\"}}"
            )),
        );
    };
    let field = |name: &str| members.iter().find(|m| m.key == name).map(|m| &m.value);
    // Echo the id exactly as written (it may hold numbers serde_json refuses).
    let id = field("id").map_or_else(|| "null".to_string(), Json::to_string);
    let (Some(pattern), Some(event)) = (field("pattern"), field("event")) else {
        return (
            id,
            Outcome::invalid(format!(
                "line {number} needs both \"pattern\" and \"event\""
            )),
        );
    };
    (id, evaluate(line, pattern, event, explain, limits))
}

fn evaluate(
    line: &str,
    pattern: &Json,
    event: &Json,
    explain: bool,
    limits: &PatternLimits,
) -> Outcome {
    let pattern = match Pattern::from_json(pattern, limits) {
        Ok(p) => p,
        Err(e) => return Outcome::invalid(format!("invalid pattern: {e}")),
    };
    let event_text = &line[event.span.start..event.span.end];
    let event = match read_event(event_text.as_bytes(), &EventLimits::default()) {
        Ok(ev) => ev,
        Err(e) => return Outcome::invalid(format!("invalid event: {e}")),
    };
    match pattern.explain_within(&event, &EventLimits::default()) {
        Err(e) => Outcome::invalid(format!("invalid event: {e}")),
        Ok(None) => Outcome {
            result: "match",
            error: None,
            explanation: None,
        },
        Ok(Some(why)) => Outcome {
            result: "no-match",
            error: None,
            explanation: explain.then(|| why.to_string()),
        },
    }
}
