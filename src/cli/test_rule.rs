//! `switchyard test-rule`: a dry run of whole rules against a sample event. For
//! each rule the event matches and each of its targets it prints exactly the
//! bytes that target would receive after input shaping and its `Transform`
//! plugin, run in the real sandbox (or why either fails), without delivering
//! anything; `--explain` says why the other rules did not
//! match; `EventBus` targets are followed to the rules of their bus (shown
//! indented); `--json` prints one `{"rule", "target", "payload" | "error"}` line per
//! target for scripts. Exit 0 when some rule matched, 1 when none did, 2 when the
//! rules or the event cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use crate::pattern::event::read_event;
use crate::router::routes::rule_arn;
use crate::rules::parse::{ParseContext, parse_file};
use crate::rules::{Destination, DirectoryState, LoadOptions, Rule};
use crate::targets::describe;
use crate::transform::input::{CompiledInput, EventView, ShapeContext};
use crate::transform::wasm::{Input, PluginHost};

use super::input::read_json_arg;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A rules directory, or one rule file.
    #[arg(long, value_name = "DIR|FILE")]
    rules: PathBuf,
    /// The event: a file, inline JSON, or - for standard input.
    #[arg(long, value_name = "FILE")]
    event: String,
    /// Only this rule.
    #[arg(long, value_name = "NAME")]
    rule: Option<String>,
    /// The bus the event is put on; `EventBus` targets are followed to theirs.
    #[arg(long, value_name = "NAME", default_value = "default")]
    bus: String,
    /// Account id in rule ARNs.
    #[arg(long, value_name = "ID", default_value = "000000000000")]
    account: String,
    /// Region in rule ARNs.
    #[arg(long, value_name = "R", default_value = "us-east-1")]
    region: String,
    /// `<aws.events.event.ingestion-time>` [default: the event's `time`].
    #[arg(long, value_name = "RFC3339")]
    ingestion_time: Option<String>,
    /// Say why rules did not match.
    #[arg(long)]
    explain: bool,
    /// One JSON object per target: {"rule", "target", "payload"} or {"rule", "target", "error"}
    /// (one line per output when a plugin runs; {"rule", "target", "dropped": true} for none).
    #[arg(long)]
    json: bool,
    /// Where Transform plugins live [default: `plugins` beside the rules].
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    match dry_run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("switchyard test-rule: {e}");
            ExitCode::from(2)
        }
    }
}

/// The plugins directory: `--plugins`, else `plugins` beside the rules.
fn plugins_dir(args: &Args) -> PathBuf {
    match &args.plugins {
        Some(dir) => dir.clone(),
        None if args.rules.is_dir() => LoadOptions::new(&args.rules).plugins_dir,
        None => args
            .rules
            .parent()
            .unwrap_or(Path::new("."))
            .join("plugins"),
    }
}

fn load_rules(path: &Path, host: &Arc<PluginHost>) -> Result<Vec<Arc<Rule>>, String> {
    let (rules, problems) = if path.is_dir() {
        let options = LoadOptions::new(path)
            .with_plugins_dir(host.dir())
            .with_plugins(host.clone());
        let (state, problems) = DirectoryState::check(options)
            .map_err(|e| format!("cannot read the rules directory {}: {e}", path.display()))?;
        (state.rules(), problems)
    } else {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the rule file {}: {e}", path.display()))?;
        let context = ParseContext {
            plugins: Some(crate::rules::PluginChecker(host.clone())),
            ..ParseContext::new(host.dir())
        };
        let parsed = parse_file(path, &text, &context);
        let rules = if parsed.problems.is_empty() {
            parsed.rules.into_iter().map(Arc::new).collect()
        } else {
            Vec::new()
        };
        (rules, parsed.problems)
    };
    for p in &problems {
        eprintln!("{p}");
    }
    if rules.is_empty() && !problems.is_empty() {
        return Err(format!(
            "no rule could be loaded from {} ({} problems above)",
            path.display(),
            problems.len()
        ));
    }
    Ok(rules)
}

fn dry_run(args: &Args) -> Result<bool, String> {
    let config = crate::config::Config::default();
    let host = PluginHost::new(
        &plugins_dir(args),
        &config.plugins,
        config.limits.envelope_limits().max_bytes,
        None,
    )?;
    let rules = load_rules(&args.rules, &host)?;
    let text = read_json_arg(&args.event, "event")?;
    read_event(text.as_bytes(), &Default::default()).map_err(|e| format!("event: {e}"))?;
    // The server holds envelopes compactly; so does the dry run.
    let text = crate::json::compact_text(&text);
    if let Some(name) = &args.rule
        && !rules.iter().any(|r| &r.name == name)
    {
        return Err(format!("no rule named {name} in {}", args.rules.display()));
    }
    let event_time = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("time").and_then(|t| t.as_str()).map(str::to_string));
    let ingestion_time = args
        .ingestion_time
        .clone()
        .or(event_time)
        .unwrap_or_else(|| crate::event::format_time(std::time::SystemTime::now()));
    let run = DryRun {
        args,
        rules: &rules,
        ingestion_time: &ingestion_time,
        plugins: &host,
    };
    run.on_bus(&args.bus, text.as_bytes(), 0)
}

/// How many `EventBus` hops the dry run follows (the server's default limit).
const MAX_HOPS: usize = 8;

struct DryRun<'a> {
    args: &'a Args,
    rules: &'a [Arc<Rule>],
    ingestion_time: &'a str,
    plugins: &'a PluginHost,
}

/// What one target would receive: its payloads, or why it gets none.
enum Outcome {
    /// Shaped (and transformed): one payload, or a plugin's outputs.
    Payloads(Vec<Vec<u8>>),
    Error(String),
}

impl DryRun<'_> {
    /// Runs the rules of `bus` on the event; `EventBus` targets are followed.
    fn on_bus(&self, bus: &str, event_bytes: &[u8], hops: usize) -> Result<bool, String> {
        let indent = "  ".repeat(hops * 2);
        let event = match read_event(event_bytes, &Default::default()) {
            Ok(e) => e,
            Err(e) => {
                if !self.args.json {
                    println!("{indent}bus {bus}: the forwarded payload is not an event: {e}");
                }
                return Ok(false);
            }
        };
        let view = EventView::new(event_bytes);
        let mut any = false;
        let only = self.args.rule.as_deref().filter(|_| hops == 0);
        for rule in self
            .rules
            .iter()
            .filter(|r| r.event_bus_name == bus && only.is_none_or(|n| r.name == n))
        {
            let args = self.args;
            if !rule.event_pattern.matches(&event) {
                if !args.json {
                    println!("{indent}rule {} (bus {bus}): no match", rule.name);
                    if args.explain
                        && let Some(why) = rule.event_pattern.explain(&event)
                    {
                        for line in why.to_string().lines() {
                            println!("{indent}  {line}");
                        }
                    }
                }
                continue;
            }
            any = true;
            let disabled = if rule.is_enabled() {
                ""
            } else {
                " (the rule is DISABLED: it would not run)"
            };
            if !args.json {
                println!("{indent}rule {} (bus {bus}): matched{disabled}", rule.name);
            }
            let arn = rule_arn(&args.region, &args.account, bus, &rule.name);
            let ctx = ShapeContext {
                rule_name: &rule.name,
                rule_arn: &arn,
                ingestion_time: self.ingestion_time,
            };
            for target in &rule.targets {
                let outcome = self.target_outcome(rule, target, &view, &ctx);
                let ran_plugin = target.transform.is_some();
                if args.json {
                    let base = |extra: serde_json::Value| {
                        let mut line = serde_json::json!({"rule": rule.name, "target": target.id});
                        if let (Some(o), serde_json::Value::Object(e)) =
                            (line.as_object_mut(), extra)
                        {
                            o.extend(e);
                        }
                        line
                    };
                    match &outcome {
                        Outcome::Payloads(p) if p.is_empty() => {
                            println!("{}", base(serde_json::json!({"dropped": true})))
                        }
                        Outcome::Payloads(p) => {
                            for bytes in p {
                                let payload = String::from_utf8_lossy(bytes);
                                println!("{}", base(serde_json::json!({"payload": payload})));
                            }
                        }
                        Outcome::Error(e) => println!("{}", base(serde_json::json!({"error": e}))),
                    }
                } else {
                    let via = target
                        .transform
                        .as_ref()
                        .map(|t| format!(", via plugin {}", t.plugin))
                        .unwrap_or_default();
                    println!(
                        "{indent}  target {} ({}{via}):",
                        target.id,
                        describe(&target.destination)
                    );
                    match &outcome {
                        Outcome::Payloads(p) if p.is_empty() && ran_plugin => {
                            println!("{indent}    (the plugin dropped the event: nothing is sent)")
                        }
                        Outcome::Payloads(p) => {
                            for bytes in p {
                                println!("{indent}    {}", String::from_utf8_lossy(bytes));
                            }
                        }
                        Outcome::Error(e) => println!(
                            "{indent}    error: {e} (the event would go to the dead-letter destination)"
                        ),
                    }
                }
                if let (Outcome::Payloads(payloads), Destination::EventBus { name }) =
                    (&outcome, &target.destination)
                {
                    for bytes in payloads {
                        if hops + 1 > MAX_HOPS {
                            if !args.json {
                                println!(
                                    "{indent}    (hop limit {MAX_HOPS} reached: the event would go to the dead-letter destination)"
                                );
                            }
                        } else {
                            any |= self.on_bus(name, bytes, hops + 1)?;
                        }
                    }
                }
            }
        }
        Ok(any)
    }

    /// Shapes the event for one target and runs its plugin, if any.
    fn target_outcome(
        &self,
        rule: &Rule,
        target: &crate::rules::Target,
        view: &EventView<'_>,
        ctx: &ShapeContext<'_>,
    ) -> Outcome {
        let shaped = match CompiledInput::new(&target.input).shape(view, ctx) {
            Ok(bytes) => bytes,
            Err(e) => return Outcome::Error(e.to_string()),
        };
        let Some(transform) = &target.transform else {
            return Outcome::Payloads(vec![shaped]);
        };
        let binding = match self.plugins.bind(transform, &rule.name, &target.id) {
            Ok(b) => b,
            Err(why) => return Outcome::Error(format!("PluginUnavailable: {why}")),
        };
        let shaped = bytes::Bytes::from(shaped);
        let input = Input {
            bytes: &shaped,
            known_object: false,
        };
        match binding.transform(input, SystemTime::now()) {
            Ok(outputs) => Outcome::Payloads(outputs.into_iter().map(|b| b.to_vec()).collect()),
            Err(f) => Outcome::Error(format!("{}: {}", f.code, f.message)),
        }
    }
}
