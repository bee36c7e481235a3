//! The plugin sandbox in-process, against the real hostile plugins: each attack
//! ends in a `Failure` whose `ERROR_CODE` names the cause, the instance is
//! re-created after a trap, limits from the rule override the defaults, and the
//! circuit breaker and fatal disable behave. (`serve_plugins.rs` drives the
//! same through the real server.)

mod plugin_support;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use plugin_support::{cache_dir, plugin_file};
use switchyard::config::PluginsConfig;
use switchyard::rules::TransformLimits;
use switchyard::transform::wasm::{Binding, Failure, Input, PluginHost};

const EVENT: &str = r#"{"version":"0","id":"e-1","detail-type":"t","source":"app","account":"1","time":"2024-01-01T00:00:00Z","region":"r","resources":[],"detail":{"ok":true,"n":1}}"#;

fn host(config: PluginsConfig) -> Arc<PluginHost> {
    let config = PluginsConfig {
        cache_dir: Some(cache_dir()),
        ..config
    };
    PluginHost::new(std::path::Path::new("/nonexistent"), &config, 1 << 20, None).unwrap()
}

fn bind_with(
    host: &PluginHost,
    name: &str,
    config: &str,
    limits: TransformLimits,
) -> Result<Binding, String> {
    let plugin = host.load_file(&plugin_file(name))?;
    host.bind_plugin(plugin, config, host.limits(&limits))
}

fn bind(name: &str, config: &str) -> Binding {
    bind_with(
        &host(PluginsConfig::default()),
        name,
        config,
        TransformLimits::default(),
    )
    .unwrap()
}

fn run(binding: &Binding, event: &str) -> Result<Vec<String>, Failure> {
    binding
        .transform(
            Input {
                bytes: &bytes::Bytes::copy_from_slice(event.as_bytes()),
                known_object: false,
            },
            SystemTime::now(),
        )
        .map(|outs| {
            outs.iter()
                .map(|b| String::from_utf8(b.to_vec()).unwrap())
                .collect()
        })
}

#[test]
fn passthrough_returns_the_event_byte_for_byte_and_reuses_its_instance() {
    let b = bind("passthrough", "{}");
    for _ in 0..3 {
        assert_eq!(run(&b, EVENT).unwrap(), vec![EVENT.to_string()]);
    }
}

#[test]
fn an_infinite_loop_is_cut_off_near_its_cpu_budget() {
    let limits = TransformLimits {
        timeout_ms: Some(20),
        ..Default::default()
    };
    let b = bind_with(&host(PluginsConfig::default()), "loop", "{}", limits).unwrap();
    let started = Instant::now();
    let err = run(&b, EVENT).unwrap_err();
    let took = started.elapsed();
    println!("loop cut off after {took:?} (budget 20 ms)");
    assert_eq!(err.code, "PluginTimeout");
    assert_eq!(
        err.message,
        "the plugin ran past its CPU time limit of 20 ms during transform and was stopped"
    );
    assert!(took >= Duration::from_millis(20), "{took:?}");
    assert!(took < Duration::from_millis(300), "cut off late: {took:?}");
}

#[test]
fn a_memory_bomb_hits_the_instance_limit() {
    let limits = TransformLimits {
        memory_mib: Some(16),
        ..Default::default()
    };
    let b = bind_with(&host(PluginsConfig::default()), "membomb", "{}", limits).unwrap();
    let err = run(&b, EVENT).unwrap_err();
    assert_eq!(err.code, "PluginMemoryLimit");
    assert_eq!(
        err.message,
        "the plugin exceeded its memory limit of 16 MiB during transform"
    );
}

#[test]
fn deep_recursion_traps_with_the_cause() {
    let native = bind("recursion", r#"{"mode": "native"}"#);
    let err = run(&native, EVENT).unwrap_err();
    assert_eq!(err.code, "PluginStackOverflow");
    assert_eq!(
        err.message,
        "the plugin overflowed its Wasm stack during transform (plugins.stack_kib)"
    );
    // Rust's own stack in linear memory runs out first: a memory fault.
    let shadow = bind("recursion", r#"{"mode": "shadow"}"#);
    let err = run(&shadow, EVENT).unwrap_err();
    assert_eq!(err.code, "PluginTrap");
    assert!(
        err.message.contains("out of bounds memory access"),
        "{}",
        err.message
    );
}

#[test]
fn a_panic_is_reported_with_the_guests_message_and_the_instance_is_recreated() {
    let b = bind("panic", "{}");
    for _ in 0..2 {
        let err = run(&b, EVENT).unwrap_err();
        assert_eq!(err.code, "PluginTrap");
        assert!(
            err.message
                .starts_with("the plugin trapped during transform: "),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("boom: the plugin panicked on purpose"),
            "the panic message from stderr: {}",
            err.message
        );
    }
}

#[test]
fn invalid_outputs_are_refused_with_the_reason() {
    let cases = [
        (
            "not-json",
            "{}",
            "output 0 is not JSON: expected ident at line 1 column 2; it starts: this is not json",
        ),
        (
            "not-object",
            "{}",
            "output 0 is JSON but not an object; it starts: [1,2,3]",
        ),
        (
            "huge-output",
            r#"{"mode": "many"}"#,
            "the plugin returned 1000 outputs; at most 100 are allowed (MaximumOutputs)",
        ),
        (
            "huge-output",
            r#"{"mode": "big"}"#,
            "the plugin returned 8388608 bytes of output; at most 4194304 are allowed (MaximumOutputBytes)",
        ),
    ];
    for (plugin, config, message) in cases {
        let err = run(&bind(plugin, config), EVENT).unwrap_err();
        assert_eq!(err.code, "PluginOutputInvalid", "{plugin}");
        assert_eq!(err.message, message, "{plugin}");
    }
    // An output within the total but above the event size limit.
    let limits = TransformLimits {
        maximum_output_bytes: Some(16 << 20),
        ..Default::default()
    };
    let b = bind_with(
        &host(PluginsConfig::default()),
        "huge-output",
        r#"{"mode": "big"}"#,
        limits,
    )
    .unwrap();
    assert_eq!(
        run(&b, EVENT).unwrap_err().message,
        "output 0 is 8388608 bytes, larger than the event size limit of 1048576 bytes"
    );
}

#[test]
fn reject_dead_letters_one_event_and_fatal_disables_the_binding() {
    let reject = bind("reject", "{}");
    assert_eq!(run(&reject, EVENT).unwrap().len(), 1);
    let bad = EVENT.replace(r#""ok":true"#, r#""ok":false"#);
    let err = run(&reject, &bad).unwrap_err();
    assert_eq!(err.code, "PluginRejected");
    assert!(
        err.message.starts_with("the plugin rejected the event: "),
        "{}",
        err.message
    );
    assert_eq!(
        run(&reject, EVENT).unwrap().len(),
        1,
        "a reject is about one event"
    );

    let fatal = bind("fatal", "{}");
    let err = run(&fatal, EVENT).unwrap_err();
    assert_eq!(err.code, "PluginFatal");
    assert_eq!(
        err.message,
        "the plugin reported a fatal error: fatal: the plugin cannot work"
    );
    let err = run(&fatal, EVENT).unwrap_err();
    assert_eq!(err.code, "PluginDisabled");
    assert_eq!(fatal.status().state, "disabled");
}

#[test]
fn the_circuit_breaker_opens_after_repeated_failures_and_closes_after_a_good_trial() {
    let host = host(PluginsConfig {
        breaker_failures: 3,
        breaker_window_ms: 10_000,
        breaker_cooldown_ms: 300,
        ..Default::default()
    });
    let b = bind_with(&host, "flaky", "{}", TransformLimits::default()).unwrap();
    let failing = EVENT.replace(r#""n":1"#, r#""n":1,"fail":true"#);
    for _ in 0..3 {
        assert_eq!(run(&b, &failing).unwrap_err().code, "PluginTrap");
    }
    assert_eq!(b.status().state, "open");
    let err = run(&b, EVENT).unwrap_err();
    assert_eq!(err.code, "PluginCircuitOpen");
    assert!(
        err.message
            .starts_with("the plugin failed 3 times within 10 s; its circuit breaker is open"),
        "{}",
        err.message
    );
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(
        run(&b, EVENT).unwrap().len(),
        1,
        "the trial call goes through"
    );
    assert_eq!(b.status().state, "closed");
}

#[test]
fn init_errors_and_forbidden_imports_are_refused_with_the_plugins_words() {
    let host = host(PluginsConfig::default());
    let err = bind_with(&host, "init-fails", "{}", TransformLimits::default()).unwrap_err();
    assert_eq!(
        err,
        "plugin \"init-fails\": init refused its Config: init-fails: refused the config on purpose"
    );
    let err = bind_with(&host, "redact", "{}", TransformLimits::default()).unwrap_err();
    assert!(
        err.starts_with("plugin \"redact\": init refused its Config: redact: \"fields\""),
        "{err}"
    );
    let err = host.load_file(&plugin_file("fs-import")).unwrap_err();
    assert_eq!(
        err,
        "plugin \"fs-import\" did not load: it imports `wasi:filesystem/types@0.2.6`, which plugins may not use: \
         a plugin gets no filesystem, network or HTTP access; it may import switchyard:plugin/log \
         and WASI's io, clocks, random and cli interfaces"
    );
}

#[test]
fn files_that_are_not_components_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let host = host(PluginsConfig::default());
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"not wasm at all").unwrap();
    let err = host.load_file(&garbage).unwrap_err();
    assert!(
        err.starts_with(&format!(
            "plugin \"garbage\" did not load: {}: not a valid WebAssembly component: ",
            garbage.display()
        )),
        "{err}"
    );
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    assert_eq!(
        host.load_file(&core).unwrap_err(),
        format!(
            "plugin \"core\" did not load: {} is a core WebAssembly module, not a component: build it for wasm32-wasip2 \
             (cargo build --target wasm32-wasip2), which makes a component",
            core.display()
        )
    );
}

#[test]
fn a_plugin_call_from_inside_the_async_runtime_still_works() {
    // WASI's synchronous host calls cannot block inside Tokio; `transform`
    // moves off the runtime by itself (the logger writes to stdout and stderr).
    let b = bind("logger", "{}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = rt.block_on(async { run(&b, EVENT) }).unwrap();
    assert_eq!(out, vec![EVENT.to_string()]);
}
