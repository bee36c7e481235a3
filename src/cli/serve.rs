//! `switchyard serve`: flags over the config file, logging, the runtime; the
//! server itself is `crate::serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;
use crate::serve::{ServeOptions, serve};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rules directory, watched and hot-reloaded.
    #[arg(long, value_name = "DIR", default_value = "rules")]
    rules: PathBuf,
    /// Where Transform plugins live [default: `plugins` beside the rules directory].
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// HOST:PORT of the HTTP listener [default: 127.0.0.1:8088, or the config's].
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
    /// A TOML config file (see the README for every setting).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log lines on standard error as text or JSON (RUST_LOG sets the level).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Kafka bootstrap servers (`kafka.brokers`), for Kafka targets and the source.
    #[arg(long, value_name = "HOST:PORT[,HOST:PORT]")]
    kafka_brokers: Option<String>,
    /// Topics to consume and route (`kafka.source.topics`).
    #[arg(long, value_name = "TOPIC[,TOPIC]", value_delimiter = ',')]
    kafka_source: Vec<String>,
    /// The consumer group (`kafka.source.group`, default `switchyard`).
    #[arg(long, value_name = "NAME")]
    kafka_group: Option<String>,
}

pub fn run(args: &Args) -> ExitCode {
    let mut config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("switchyard serve: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    if let Some(listen) = &args.listen {
        config.server.listen = listen.clone();
    }
    if let Some(brokers) = &args.kafka_brokers {
        config.kafka.brokers = Some(brokers.clone());
    }
    if !args.kafka_source.is_empty() {
        config.kafka.source.topics = args.kafka_source.clone();
    }
    if let Some(group) = &args.kafka_group {
        config.kafka.source.group = group.clone();
    }
    if !config.kafka.source.topics.is_empty() && config.kafka.brokers.is_none() {
        eprintln!(
            "switchyard serve: --kafka-source needs --kafka-brokers (or kafka.brokers in the config)"
        );
        return ExitCode::from(2);
    }
    init_logging(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("switchyard")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("switchyard serve: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let options = ServeOptions {
        rules_dir: args.rules.clone(),
        plugins_dir: args.plugins.clone(),
        config,
    };
    let result = runtime.block_on(serve(options));
    // Work still running now (a Kafka client closing while its broker is
    // unreachable) must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(3));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
