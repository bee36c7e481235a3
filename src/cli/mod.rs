//! The `switchyard` command line: argument parsing (clap) and one module per
//! subcommand. Subcommands print and pick exit codes; the work itself lives in the
//! library modules they call.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod check;
mod input;
mod plugin;
mod serve;
mod test_pattern;
mod test_rule;

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "A self-hosted, EventBridge-compatible event router"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Test an EventBridge event pattern against an event (exit 0 match, 1 no match,
    /// 2 invalid pattern or event), or run a batch of cases.
    TestPattern(test_pattern::Args),
    /// Dry-run whole rules against a sample event: for each matching rule and
    /// target, the exact bytes the target would receive (nothing is delivered).
    TestRule(test_rule::Args),
    /// Validate a rules directory the way the server loads it: print every problem
    /// as file:line:column: message (exit 0 none, 1 some, 2 unreadable directory).
    Check(check::Args),
    /// Run the router: HTTP ingest (AWS JSON 1.1 PutEvents and friends,
    /// CloudEvents), the rules directory hot-reloaded, delivery with retries and
    /// dead letters, admin endpoints. Stops cleanly on SIGTERM/SIGINT.
    Serve(serve::Args),
    /// Plugin tools: scaffold a plugin crate, validate a component, run one once.
    #[command(subcommand)]
    Plugin(plugin::Command),
    /// Measure the matcher, or generate benchmark data.
    #[command(subcommand)]
    Bench(bench::Command),
}

/// Parses the command line and runs the chosen subcommand.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::TestPattern(args) => test_pattern::run(&args),
        Command::Check(args) => check::run(&args),
        Command::TestRule(args) => test_rule::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Plugin(command) => plugin::run(&command),
        Command::Bench(command) => bench::run(&command),
    }
}
