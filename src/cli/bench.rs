//! `switchyard bench`: `match` times the matcher on your patterns and events;
//! `generate` writes the citylots-like benchmark data to files; `ingest-ceiling`
//! serves the no-routing ceiling for the gateway benchmark; `plugins` times Wasm
//! plugin calls against native Rust.

use std::process::ExitCode;

use crate::bench::{self, citylots};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Time the matcher: load patterns, one warm-up pass, K timed passes over the
    /// events; print one JSON line.
    Match {
        /// JSON Lines of {"id", "pattern"}.
        #[arg(long, value_name = "FILE")]
        patterns: String,
        /// JSON Lines, one event per line.
        #[arg(long, value_name = "FILE")]
        events: String,
        /// Timed passes over all events.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        passes: u64,
    },
    /// Write citylots-like events and one pattern family as JSON Lines files
    /// (DIR/events.jsonl and DIR/patterns.jsonl).
    Generate {
        /// One of: exact, prefix, suffix, prefix-equals-ignore-case,
        /// suffix-equals-ignore-case, equals-ignore-case, wildcard, numeric,
        /// anything-but, array-of-objects-numeric, cidr, exact-10000, prefix-1000,
        /// mixed-1000-or.
        #[arg(long)]
        family: String,
        /// Wrap events in an EventBridge envelope and patterns in rules on it.
        #[arg(long)]
        envelope: bool,
        /// How many events.
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        #[arg(long, value_name = "DIR")]
        out: String,
    },
    /// Time Wasm plugin calls (pass-through, redaction) against the same logic in
    /// native Rust, and instantiation; print a table.
    Plugins {
        /// Where passthrough.wasm and redact.wasm are (scripts/build-plugins.sh).
        #[arg(long, value_name = "DIR", default_value = "plugins")]
        plugins: std::path::PathBuf,
        /// Calls per timed round.
        #[arg(long, default_value_t = 200_000)]
        calls: usize,
        /// Timed rounds; the best is reported.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// The Kafka benchmark's ceiling: the raw rdkafka consume-then-produce loop
    /// (scripts/bench-kafka.sh runs it beside `serve`).
    KafkaLoop {
        #[arg(long, value_name = "HOST:PORT")]
        brokers: String,
        #[arg(long, value_name = "TOPIC")]
        from: String,
        #[arg(long, value_name = "TOPIC")]
        to: String,
        /// Records to copy, then exit.
        #[arg(long)]
        count: u64,
        /// Produce requests in flight at once (switchyard's per-target slots).
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
    },
    /// Serve the PutEvents -> file ceiling `serve` is measured against: the same
    /// HTTP stack, parsing and file writer, with no routing
    /// (scripts/bench-gateway.sh drives it with wrk).
    IngestCeiling {
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8089")]
        listen: String,
        /// The JSON Lines file every event is appended to.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
}

pub fn run(command: &Command) -> ExitCode {
    let result = match command {
        Command::Match {
            patterns,
            events,
            passes,
        } => run_match(patterns, events, *passes as usize),
        Command::Generate {
            family,
            envelope,
            events,
            out,
        } => generate(family, *envelope, *events, out),
        Command::Plugins {
            plugins,
            calls,
            rounds,
        } => bench::plugins::run(plugins, *calls, *rounds).map(|results| {
            print!(
                "{}",
                bench::plugins::report(&results, bench::plugins::event_1kb().len())
            )
        }),
        Command::KafkaLoop {
            brokers,
            from,
            to,
            count,
            in_flight,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(bench::kafka::run(brokers, from, to, *count, *in_flight))),
        Command::IngestCeiling { listen, out } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(bench::ceiling::run(listen, out.clone()))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read \"{path}\": {e}"))
}

fn run_match(patterns: &str, events: &str, passes: usize) -> Result<(), String> {
    let patterns = bench::read_pattern_lines(&read(patterns)?)?;
    let events: Vec<Vec<u8>> = read(events)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.as_bytes().to_vec())
        .collect();
    println!(
        "{}",
        bench::run_match(&patterns, &events, passes).to_json_line()
    );
    Ok(())
}

fn generate(family: &str, envelope: bool, count: usize, out: &str) -> Result<(), String> {
    let Some(family) = citylots::Family::from_name(family) else {
        let names: Vec<_> = citylots::Family::ALL.iter().map(|f| f.name()).collect();
        return Err(format!(
            "unknown family \"{family}\"; use one of {}",
            names.join(", ")
        ));
    };
    let dir = std::path::Path::new(out);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create \"{out}\": {e}"))?;
    let patterns: String = family
        .patterns(envelope)
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{{\"id\":\"{}-{i}\",\"pattern\":{p}}}\n", family.name()))
        .collect();
    let events: String = citylots::events(count, 42, envelope)
        .into_iter()
        .map(|e| e + "\n")
        .collect();
    for (name, text) in [("patterns.jsonl", patterns), ("events.jsonl", events)] {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| format!("cannot write \"{}\": {e}", path.display()))?;
    }
    Ok(())
}
