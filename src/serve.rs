//! `switchyard serve`: wiring the stages together and the admin endpoints.
//!
//! It owns startup (config, rules watcher, router, targets, the one HTTP
//! listener, the plugin host and its watcher), the HTTP routes (AWS JSON on any
//! `POST`, `/cloudevents[/{bus}]`, `/healthz`, `/readyz`, `/metrics`,
//! `/status/rules`, `/status/plugins`) and shutdown: on SIGTERM or
//! SIGINT it stops accepting (new requests get 503), waits for queued and
//! in-flight deliveries up to the drain timeout, then settles what is left
//! (dead-lettered where the target has a destination, otherwise logged with its
//! event id), flushes files and exits 0. What each stage does is in its module.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::Router as HttpRouter;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::router::routes::{Routes, RoutesBuilder};
use crate::router::{Ingest, RouterSettings};
use crate::rules::{LoadOptions, PublishHook, RulesWatcher, WatchOptions};
use crate::sources::aws_json::{self, AwsError};
use crate::sources::durable::DurableIngest;
use crate::sources::kafka::{KafkaSource, KafkaSourceSettings};
use crate::sources::{SourceContext, cloudevents, sigv4};
use crate::targets::TargetFactory;
use crate::transform::wasm::PluginHost;
use crate::transform::wasm::watch::PluginWatcher;

/// What `serve` was asked to run.
pub struct ServeOptions {
    pub rules_dir: PathBuf,
    pub plugins_dir: Option<PathBuf>,
    pub config: Config,
}

struct AppState {
    sources: SourceContext,
    watcher: Mutex<RulesWatcher>,
    plugins: Arc<PluginHost>,
    routes: Arc<ArcSwap<Routes>>,
    draining: AtomicBool,
}

/// Runs the server until SIGTERM/SIGINT; `Err` only when it cannot start.
pub async fn serve(options: ServeOptions) -> Result<(), String> {
    let config = options.config;
    // A configured key whose secret cannot be read stops startup here.
    let sigv4 = sigv4::Verifier::from_config(&config.auth)?;
    if let Some(v) = &sigv4 {
        tracing::info!(
            access_key_id = v.access_key_id(),
            "AWS JSON requests must be SigV4-signed (service {})",
            sigv4::SERVICE
        );
    }

    let metrics = Arc::new(Metrics::new());
    let routes = Arc::new(ArcSwap::from_pointee(Routes::empty()));
    let limits = config.limits.envelope_limits();
    let ingest = Ingest::new(
        RouterSettings {
            max_in_flight: config.router.max_in_flight_events,
            max_hops: config.router.max_hops,
            limits,
            transform_threads: config.plugins.thread_count(),
        },
        metrics.clone(),
        routes.clone(),
    );
    let shutdown = CancellationToken::new();
    let factory = TargetFactory::new(&config, ingest.clone());
    if let Some(d) = &config.router.dead_letter {
        ingest.set_dead_letter(factory.build_configured(d)?);
    }
    let mut load = LoadOptions::new(&options.rules_dir);
    if let Some(p) = &options.plugins_dir {
        load = load.with_plugins_dir(p);
    }
    let plugins_dir = load.plugins_dir.clone();
    let plugins = PluginHost::new(
        &plugins_dir,
        &config.plugins,
        limits.max_bytes,
        Some(metrics.plugin.clone()),
    )?;
    let load = load.with_plugins(plugins.clone());
    let builder = Arc::new(
        RoutesBuilder::new(factory, config.clone(), metrics.clone(), shutdown.clone())
            .with_plugins(plugins.clone()),
    );

    let hook_routes = routes.clone();
    let hook_builder = builder.clone();
    let mut load = load;
    load.pattern_limits.max_wildcard_complexity = config.limits.max_wildcard_complexity;
    let watch = WatchOptions {
        load,
        event_limits: limits,
        on_publish: Some(PublishHook(Arc::new(move |rules| {
            hook_routes.store(Arc::new(hook_builder.build(rules)));
        }))),
        ..WatchOptions::new(&options.rules_dir)
    };
    let mut watcher = tokio::task::spawn_blocking(move || RulesWatcher::start(watch))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| {
            format!(
                "cannot watch the rules directory {}: {e}",
                options.rules_dir.display()
            )
        })?;
    watcher
        .reload_on_sighup()
        .map_err(|e| format!("cannot handle SIGHUP: {e}"))?;
    // Without a plugins directory there is nothing to watch (and no plugin to
    // run); one created later is picked up on restart.
    let reloader = watcher.reloader();
    let _plugin_watcher = if plugins_dir.is_dir() {
        Some(PluginWatcher::start(
            plugins.clone(),
            Duration::from_millis(150),
            move || reloader.force_reload(),
        )?)
    } else {
        tracing::info!("no plugins directory {}", plugins_dir.display());
        None
    };
    let status = watcher.status();
    let problems: usize = status.files.iter().map(|f| f.problems.len()).sum();
    tracing::info!(
        rules = status.rules,
        problems,
        "rules directory {} loaded",
        options.rules_dir.display()
    );

    let mut kafka_source = match KafkaSourceSettings::from_config(&config) {
        None => None,
        Some(settings) => {
            let dead_letters = match &settings.source.dead_letter_topic {
                Some(_) => Some(builder.factory().kafka_producer()?),
                None => None,
            };
            Some(KafkaSource::start(
                settings,
                ingest.clone(),
                dead_letters,
                metrics.clone(),
            )?)
        }
    };

    let mut sources = SourceContext::new(
        ingest.clone(),
        routes.clone(),
        Arc::new(config.clone()),
        metrics.clone(),
        options.rules_dir.clone(),
        sigv4,
    );
    if let Some(topic) = &config.kafka.ingest.topic {
        tracing::info!("durable ingest: accepted events go to Kafka topic {topic} first");
        sources.durable = Some(DurableIngest::new(
            builder.factory().kafka_producer()?,
            topic.clone(),
            config.kafka.ingest.key,
        ));
    }
    let state = Arc::new(AppState {
        sources,
        watcher: Mutex::new(watcher),
        plugins,
        routes: routes.clone(),
        draining: AtomicBool::new(false),
    });

    // Before the listening line: a supervisor may send SIGTERM as soon as it sees
    // it, and a signal that comes before its handler would kill the process
    // without draining (exit by signal, not 0).
    let signals = ShutdownSignals::install()?;
    let listener = tokio::net::TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.server.listen))?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("listening on http://{addr}");
    eprintln!("switchyard listening on http://{addr}");

    let app = HttpRouter::new()
        // AWS JSON requests are POSTs on any path, these included.
        .route("/healthz", get(|| async { "ok\n" }).fallback(aws))
        .route("/readyz", get(readyz).fallback(aws))
        .route("/metrics", get(metrics_text).fallback(aws))
        .route("/status/rules", get(rules_status).fallback(aws))
        .route("/status/plugins", get(plugins_status).fallback(aws))
        .route("/cloudevents", post(cloudevents_default))
        .route("/cloudevents/{bus}", post(cloudevents_bus))
        .fallback(aws)
        .layer(DefaultBodyLimit::max(config.limits.max_body_bytes))
        .with_state(state.clone());

    let stop_server = CancellationToken::new();
    let server_stop = stop_server.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { server_stop.cancelled().await })
            .await
    });

    signals.wait().await;
    tracing::info!("shutting down: no new events accepted; draining");
    state.draining.store(true, Ordering::Release);
    if let Some(source) = &mut kafka_source {
        source.stop_consuming().await;
    }
    ingest.stop_accepting();
    let drained = wait_until_idle(&ingest, config.drain_timeout()).await;
    if !drained {
        tracing::warn!(
            in_flight = ingest.in_flight(),
            "drain timeout ({} ms) passed: settling what is left (dead-letter destinations where configured, else logged)",
            config.server.drain_timeout_ms
        );
        shutdown.cancel();
        // Attempts in progress end within their target's timeout; dead-letter
        // writes take up to three tries of one more.
        let settle =
            Duration::from_millis(config.targets.http_timeout_ms) * 4 + Duration::from_secs(5);
        if !wait_until_idle(&ingest, settle).await {
            tracing::error!(
                in_flight = ingest.in_flight(),
                "events still unsettled after the drain; exiting anyway"
            );
        }
    }
    shutdown.cancel();
    if let Some(source) = kafka_source {
        // Offsets of what finished are committed; the rest is read again.
        source.finish().await;
    }
    builder.factory().flush_all();
    stop_server.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM and SIGINT, handled from the moment they are installed.
struct ShutdownSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> Result<ShutdownSignals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        let term =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
        let int =
            signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
        Ok(ShutdownSignals { term, int })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// Waits until nothing is in flight, or the timeout passes; whether it emptied.
async fn wait_until_idle(ingest: &crate::router::Ingest, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ingest.in_flight() == 0 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An AWS error answered before a request reaches `aws_json::handle`, with a
/// request id as every AWS response has.
fn early_aws_error(error: AwsError) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    aws_json::with_request_id(aws_json::error_response(&error), &request_id)
}

async fn aws(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        // Too large (or unreadable): still an AWS error SDKs can read, and a
        // 400 like every other client mistake.
        Err(e) => {
            return early_aws_error(AwsError {
                status: StatusCode::BAD_REQUEST,
                code: "ValidationException",
                message: format!(
                    "the request body cannot be read: {} (the limit is limits.max_body_bytes = {} bytes)",
                    e.body_text(),
                    state.sources.config.limits.max_body_bytes
                ),
            });
        }
    };
    if method != axum::http::Method::POST {
        return (
            StatusCode::NOT_FOUND,
            "not found: POST AWS JSON 1.1 requests on any path, or GET /healthz, /readyz, /metrics, /status/rules\n",
        )
            .into_response();
    }
    if state.draining.load(Ordering::Acquire) {
        return early_aws_error(AwsError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "ServiceUnavailableException",
            message: "switchyard is shutting down and accepts no new requests".into(),
        });
    }
    // Matching and shaping are short CPU work; no blocking I/O happens here.
    aws_json::handle(&state.sources, &method, &uri, &headers, &body)
}

async fn cloudevents_default(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    cloudevents_on(&state, "default", &headers, &body)
}

async fn cloudevents_bus(
    State(state): State<Arc<AppState>>,
    UrlPath(bus): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    cloudevents_on(&state, &bus, &headers, &body)
}

fn cloudevents_on(state: &AppState, bus: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    if state.draining.load(Ordering::Acquire) {
        return cloudevents::refused(crate::router::Refused::Unavailable);
    }
    cloudevents::handle(&state.sources, bus, headers, body)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let generation = state.sources.routes.load().rules.generation();
    if state.draining.load(Ordering::Acquire) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    } else if generation == 0 {
        (StatusCode::SERVICE_UNAVAILABLE, "rules not loaded yet\n").into_response()
    } else {
        (
            StatusCode::OK,
            format!("ready (rules generation {generation})\n"),
        )
            .into_response()
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let s = &state.sources;
    for handle in s.routes.load().handles() {
        handle.update_queue_depth();
    }
    s.metrics.in_flight_events.set(s.ingest.in_flight() as i64);
    Response::builder()
        .header(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
        .body(Body::from(s.metrics.render()))
        .expect("a valid response")
}

async fn rules_status(State(state): State<Arc<AppState>>) -> Response {
    let status = state.watcher.lock().unwrap().status();
    json_response(&status)
}

/// Every plugin file (loaded, or why not) and every binding's health.
async fn plugins_status(State(state): State<Arc<AppState>>) -> Response {
    let routes = state.routes.load();
    let bindings: Vec<_> = routes.bindings().map(|b| b.status()).collect();
    json_response(&serde_json::json!({
        "directory": state.plugins.dir(),
        "plugins": state.plugins.status(),
        "bindings": bindings,
    }))
}

fn json_response(value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_default();
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a valid response")
}
