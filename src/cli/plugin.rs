//! `switchyard plugin new|check|test`: the plugin author's tools.
//!
//! - `new NAME` scaffolds a plugin crate (from `plugins/template`) that builds
//!   with `cargo build --target wasm32-wasip2 --release` and passes its own test.
//! - `check FILE.wasm` loads a component the way the server does (compile,
//!   imports against the allow-list, exports against the world, `init` with a
//!   config) and prints what it found. Exit 0 valid, 1 invalid, 2 unreadable.
//! - `test FILE.wasm --event E` runs `transform` once in the real sandbox and
//!   prints each output on its own line. Exit 0 ran, 1 the plugin failed (its
//!   `ERROR_CODE` and reason are printed), 2 bad arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use crate::config::Config;
use crate::transform::wasm::{Input, Plugin, PluginHost};

use super::input::read_json_arg;

const TEMPLATE_CARGO: &str = include_str!("../../plugins/template/Cargo.toml.tmpl");
const TEMPLATE_LIB: &str = include_str!("../../plugins/template/lib.rs.tmpl");
/// The SDK of the source tree this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/plugins/sdk");

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Scaffold a plugin crate NAME (in the current directory, or --dir).
    New {
        name: String,
        /// The directory to create the crate in.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// The switchyard-plugin SDK crate [default: the one of the source tree
        /// this binary was built from].
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
    },
    /// Validate a component against the plugin world and print what it found.
    Check {
        file: PathBuf,
        /// The `Config` object to `init` with: inline JSON or a file.
        #[arg(long, value_name = "JSON|FILE", default_value = "{}")]
        config: String,
        /// Limits and cache settings from a config file's `[plugins]`.
        #[arg(long = "config-file", value_name = "FILE")]
        config_file: Option<PathBuf>,
    },
    /// Run a plugin once on an event in the real sandbox; print its outputs.
    Test {
        file: PathBuf,
        /// The event: a file, inline JSON, or - for standard input.
        #[arg(long, value_name = "FILE|JSON")]
        event: String,
        /// The `Config` object to `init` with: inline JSON or a file.
        #[arg(long, value_name = "JSON|FILE", default_value = "{}")]
        config: String,
        #[arg(long = "config-file", value_name = "FILE")]
        config_file: Option<PathBuf>,
    },
}

pub fn run(command: &Command) -> ExitCode {
    // What the plugin logs (its `log` calls, stdout, stderr) goes to stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,plugin=trace"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .init();
    let result = match command {
        Command::New { name, dir, sdk } => scaffold(name, dir, sdk.as_deref()),
        Command::Check {
            file,
            config,
            config_file,
        } => check(file, config, config_file.as_deref()),
        Command::Test {
            file,
            event,
            config,
            config_file,
        } => test(file, event, config, config_file.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("switchyard plugin: {e}");
            ExitCode::from(2)
        }
    }
}

fn scaffold(name: &str, dir: &Path, sdk: Option<&Path>) -> Result<ExitCode, String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "\"{name}\" is not a plugin name: use lowercase letters, digits, '-' and '_', starting with a letter"
        ));
    }
    let sdk = sdk
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(BUILT_SDK));
    let sdk = sdk.canonicalize().map_err(|e| {
        format!(
            "cannot find the switchyard-plugin SDK at {}: {e} (give its directory with --sdk)",
            sdk.display()
        )
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} has no Cargo.toml: it is not the SDK crate",
            sdk.display()
        ));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(format!("{} already exists", root.display()));
    }
    let fill = |t: &str| {
        t.replace("{{name}}", name)
            .replace("{{sdk_path}}", &sdk.display().to_string())
    };
    std::fs::create_dir_all(root.join("src"))
        .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    for (path, text) in [
        (root.join("Cargo.toml"), fill(TEMPLATE_CARGO)),
        (root.join("src/lib.rs"), fill(TEMPLATE_LIB)),
    ] {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let wasm = name.replace('-', "_");
    println!("created {}", root.display());
    println!("  test:  cd {} && cargo test", root.display());
    println!("  build: cargo build --target wasm32-wasip2 --release");
    println!("  use:   cp target/wasm32-wasip2/release/{wasm}.wasm <plugins dir>/{name}.wasm");
    Ok(ExitCode::SUCCESS)
}

fn host(config_file: Option<&Path>) -> Result<(Arc<PluginHost>, Config), String> {
    let config = match config_file {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    // No directory: these commands load one file.
    let host = PluginHost::new(
        Path::new("/nonexistent/switchyard-plugins"),
        &config.plugins,
        config.limits.envelope_limits().max_bytes,
        None,
    )?;
    Ok((host, config))
}

fn load(host: &PluginHost, file: &Path) -> Result<Result<Arc<Plugin>, String>, String> {
    if !file.is_file() {
        return Err(format!("cannot read {}: no such file", file.display()));
    }
    Ok(host.load_file(file))
}

fn check(file: &Path, config: &str, config_file: Option<&Path>) -> Result<ExitCode, String> {
    let (host, _) = host(config_file)?;
    let plugin_config = read_json_arg(config, "config")?;
    let plugin = match load(&host, file)? {
        Ok(p) => p,
        Err(why) => {
            println!("invalid: {why}");
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "component {} ({} bytes, sha256 {})",
        file.display(),
        plugin.size,
        plugin.hash
    );
    println!("imports:");
    for import in &plugin.imports {
        println!("  {import}");
    }
    println!("exports:");
    for export in &plugin.exports {
        println!("  {export}");
    }
    let limits = host.limits(&Default::default());
    match host.bind_plugin(plugin, &plugin_config, limits) {
        Ok(_) => {
            println!("init with {}: ok", plugin_config.trim());
            println!("ok: a valid switchyard:plugin/transformer@0.1.0 component");
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            println!("invalid: {why}");
            Ok(ExitCode::from(1))
        }
    }
}

fn test(
    file: &Path,
    event: &str,
    config: &str,
    config_file: Option<&Path>,
) -> Result<ExitCode, String> {
    let (host, _) = host(config_file)?;
    let plugin_config = read_json_arg(config, "config")?;
    let event = read_json_arg(event, "event")?;
    let event = crate::json::compact_text(&event);
    let plugin = match load(&host, file)? {
        Ok(p) => p,
        Err(why) => {
            eprintln!("invalid: {why}");
            return Ok(ExitCode::from(1));
        }
    };
    let limits = host.limits(&Default::default());
    let binding = match host.bind_plugin(plugin, &plugin_config, limits) {
        Ok(b) => b,
        Err(why) => {
            eprintln!("invalid: {why}");
            return Ok(ExitCode::from(1));
        }
    };
    let event = bytes::Bytes::from(event);
    let input = Input {
        bytes: &event,
        known_object: false,
    };
    match binding.transform(input, SystemTime::now()) {
        Ok(outputs) => {
            for output in &outputs {
                println!("{}", String::from_utf8_lossy(output));
            }
            eprintln!(
                "{} output{}",
                outputs.len(),
                if outputs.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            println!("{}: {}", failure.code, failure.message);
            Ok(ExitCode::from(1))
        }
    }
}
