//! `switchyard check DIR`: validates a rules directory exactly as the server loads
//! it, prints every problem as `file:line:column: message`, then a summary.
//! Exit 0 when there is no problem, 1 when there is any, 2 when the directory can
//! not be read. `Transform` plugins are loaded and `init`ed with their `Config`,
//! as the server does.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::rules::{DirectoryState, LoadOptions};
use crate::transform::wasm::PluginHost;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rules directory (every *.json file in it is a rule file).
    dir: PathBuf,
    /// Where Transform plugins live [default: `plugins` beside DIR].
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// The server's config file, for its limits (`[limits]`, `[plugins]`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("switchyard check: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    let mut options = LoadOptions::new(&args.dir);
    if let Some(plugins) = &args.plugins {
        options = options.with_plugins_dir(plugins);
    }
    options.pattern_limits.max_wildcard_complexity = config.limits.max_wildcard_complexity;
    let host = match PluginHost::new(
        &options.plugins_dir,
        &config.plugins,
        config.limits.envelope_limits().max_bytes,
        None,
    ) {
        Ok(host) => host,
        Err(e) => {
            eprintln!("switchyard check: {e}");
            return ExitCode::from(2);
        }
    };
    let options = options.with_plugins(host);
    let (state, problems) = match DirectoryState::check(options) {
        Ok(result) => result,
        Err(e) => {
            eprintln!(
                "switchyard check: cannot read the rules directory {}: {e}",
                args.dir.display()
            );
            return ExitCode::from(2);
        }
    };
    for problem in &problems {
        println!("{problem}");
    }
    let files = state.files().count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if problems.is_empty() {
        let rules = state.rules().len();
        println!("ok: {} in {}", plural(rules, "rule"), plural(files, "file"));
        ExitCode::SUCCESS
    } else {
        let broken = state
            .files()
            .filter(|(_, f)| !f.problems.is_empty() || !f.dangling.is_empty())
            .count();
        println!(
            "{} in {} of {} checked",
            plural(problems.len(), "problem"),
            plural(broken, "file"),
            plural(files, "file")
        );
        ExitCode::from(1)
    }
}
