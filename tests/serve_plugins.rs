//! Wasm plugins through the real server: the example plugins' effect on what
//! targets receive; each hostile plugin's events dead-lettered with the right
//! `ERROR_CODE` while a well-behaved plugin rule keeps delivering; the circuit
//! breaker in `/status/plugins` and metrics; hot reload of a plugin under load;
//! rules that wait for a missing plugin; forbidden imports and `init` errors at
//! load; plugin logs.

mod plugin_support;
mod serve_support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serve_support::{Server, read_lines, wait_for_lines};

const WAIT: Duration = Duration::from_secs(20);

/// A server whose `plugins/` holds these plugins.
fn server(plugins: &[&str], rules: &[(&str, &str)], config: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    plugin_support::install(&dir.path().join("plugins"), plugins);
    Server::start_in(dir, rules, config)
}

/// A rule with one file target that runs `plugin` (and a file DLQ).
fn plugin_rule(name: &str, source: &str, plugin: &str, config: Value) -> String {
    plugin_rule_with(name, source, plugin, config, json!({}))
}

/// The same, with the target's own `Transform.Limits`.
fn plugin_rule_with(
    name: &str,
    source: &str,
    plugin: &str,
    config: Value,
    limits: Value,
) -> String {
    json!([{
        "Name": name,
        "EventPattern": { "source": [source] },
        "Targets": [{
            "Id": "t",
            "File": { "Path": format!("out/{name}.jsonl") },
            "Transform": { "Plugin": plugin, "Config": config, "Limits": limits },
            "DeadLetterConfig": { "File": { "Path": format!("dlq/{name}.jsonl") } }
        }]
    }])
    .to_string()
}

fn error_code(record: &Value) -> &str {
    record["attributes"]["ERROR_CODE"].as_str().unwrap()
}

fn error_message(record: &Value) -> &str {
    record["attributes"]["ERROR_MESSAGE"].as_str().unwrap()
}

async fn status(server: &Server) -> Value {
    let (code, body) = server.get("/status/plugins").await;
    assert_eq!(code, 200);
    serde_json::from_str(&body).unwrap()
}

async fn wait_until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = Instant::now() + WAIT;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_plugins_reshape_what_targets_receive() {
    let rules = [
        (
            "redact.json",
            plugin_rule(
                "redact",
                "shop",
                "redact",
                json!({"fields": ["detail.customer.email", "detail.card"]}),
            ),
        ),
        (
            "enrich.json",
            plugin_rule(
                "enrich",
                "shop",
                "enrich",
                json!({"tiers": [{"min": 100, "name": "silver"}, {"min": 1000, "name": "gold"}]}),
            ),
        ),
        (
            "split.json",
            plugin_rule("split", "shop", "split", json!({"path": "detail.items"})),
        ),
        (
            "ce.json",
            plugin_rule("ce", "shop", "cloudevents", json!({})),
        ),
    ];
    let rules: Vec<(&str, &str)> = rules.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = server(&["redact", "enrich", "split", "cloudevents"], &rules, "");
    let detail = json!({
        "customer": {"id": "c-1", "email": "ada@example.com"},
        "card": "4111111111111111",
        "items": [{"sku": "a", "price": 30, "quantity": 2}, {"sku": "b", "price": 50, "quantity": 1}]
    });
    let id = server.put("shop", detail).await;

    let redacted = &wait_for_lines(&server.path("out/redact.jsonl"), 1, WAIT).await[0];
    assert_eq!(redacted["id"], id);
    assert_eq!(
        redacted["detail"]["customer"],
        json!({"id": "c-1", "email": "REDACTED"})
    );
    assert_eq!(redacted["detail"]["card"], "REDACTED");

    let enriched = &wait_for_lines(&server.path("out/enrich.jsonl"), 1, WAIT).await[0];
    assert_eq!(enriched["detail"]["total"], 110);
    assert_eq!(enriched["detail"]["tier"], "silver");

    let split = wait_for_lines(&server.path("out/split.jsonl"), 2, WAIT).await;
    assert_eq!(split.len(), 2, "one event per item");
    let mut skus: Vec<(&str, &str, i64)> = split
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap(),
                e["detail"]["items"]["sku"].as_str().unwrap(),
                e["detail"]["split-index"].as_i64().unwrap(),
            )
        })
        .collect();
    skus.sort();
    let (id0, id1) = (format!("{id}-0"), format!("{id}-1"));
    assert_eq!(skus, vec![(id0.as_str(), "a", 0), (id1.as_str(), "b", 1)]);

    let ce = &wait_for_lines(&server.path("out/ce.jsonl"), 1, WAIT).await[0];
    assert_eq!(ce["specversion"], "1.0");
    assert_eq!(ce["id"], id);
    assert_eq!(ce["type"], "test");
    assert_eq!(ce["source"], "shop");
    assert_eq!(ce["data"]["customer"]["id"], "c-1");
    assert_eq!(
        server
            .metric(r#"switchyard_plugin_outputs_total{plugin="split",rule="split",target="t"}"#)
            .await,
        2.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_are_dead_lettered_with_their_cause_while_a_good_plugin_keeps_delivering() {
    let attacks = [
        (
            "loop",
            json!({}),
            "PluginTimeout",
            "the plugin ran past its CPU time limit of 20 ms during transform and was stopped",
        ),
        (
            "membomb",
            json!({}),
            "PluginMemoryLimit",
            "the plugin exceeded its memory limit of 32 MiB during transform",
        ),
        (
            "recursion",
            json!({"mode": "native"}),
            "PluginStackOverflow",
            "the plugin overflowed its Wasm stack during transform (plugins.stack_kib)",
        ),
        (
            "panic",
            json!({}),
            "PluginTrap",
            "boom: the plugin panicked on purpose",
        ),
        (
            "not-json",
            json!({}),
            "PluginOutputInvalid",
            "output 0 is not JSON",
        ),
        (
            "huge-output",
            json!({"mode": "many"}),
            "PluginOutputInvalid",
            "the plugin returned 1000 outputs; at most 100 are allowed (MaximumOutputs)",
        ),
        (
            "fatal",
            json!({}),
            "PluginFatal",
            "the plugin reported a fatal error: fatal: the plugin cannot work",
        ),
    ];
    // Only the loop meets the 20 ms CPU limit: the others get time enough to
    // reach their own cause on a busy machine (paging in 32 MiB can take longer).
    let limits = |p: &str| {
        if p == "loop" {
            json!({})
        } else {
            json!({"TimeoutMilliseconds": 5000})
        }
    };
    let mut files: Vec<(String, String)> = attacks
        .iter()
        .map(|(p, config, _, _)| {
            let rule = plugin_rule_with(p, "attack", p, config.clone(), limits(p));
            (format!("{p}.json"), rule)
        })
        .collect();
    files.push((
        "good.json".into(),
        plugin_rule("good", "good", "passthrough", json!({})),
    ));
    let rules: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let mut names: Vec<&str> = attacks.iter().map(|a| a.0).collect();
    names.push("passthrough");
    // A breaker that never opens here: every attack reaches the plugin.
    let config = "[plugins]\ntimeout_ms = 20\nmemory_mib = 32\nbreaker_failures = 1000\n";
    let server = server(&names, &rules, config);
    let bindings = status(&server).await["bindings"].clone();
    for b in bindings.as_array().unwrap() {
        let expected = if b["plugin"] == "loop" || b["plugin"] == "passthrough" {
            20
        } else {
            5000
        };
        assert_eq!(b["timeout_ms"], expected, "{b}");
        assert_eq!(b["memory_mib"], 32, "{b}");
    }

    let mut latencies = Vec::new();
    for round in 0..3 {
        server.put("attack", json!({"round": round})).await;
        for i in 0..5 {
            let sent = Instant::now();
            server.put("good", json!({"round": round, "i": i})).await;
            let n = round * 5 + i + 1;
            wait_for_lines(&server.path("out/good.jsonl"), n, WAIT).await;
            latencies.push(sent.elapsed());
        }
    }
    latencies.sort();
    println!(
        "good rule under attack: p50 {:?}, max {:?} over {} events",
        latencies[latencies.len() / 2],
        latencies.last().unwrap(),
        latencies.len()
    );
    assert!(
        *latencies.last().unwrap() < Duration::from_secs(2),
        "the good rule's latency stays bounded: {latencies:?}"
    );
    assert_eq!(read_lines(&server.path("out/good.jsonl")).len(), 15);

    for (plugin, _, code, message) in attacks {
        let dlq = wait_for_lines(&server.path(&format!("dlq/{plugin}.jsonl")), 3, WAIT).await;
        let first = &dlq[0];
        assert_eq!(error_code(first), code, "{plugin}: {first}");
        assert!(
            error_message(first).contains(message),
            "{plugin}: {}",
            error_message(first)
        );
        assert_eq!(
            first["event"]["detail"]["round"], 0,
            "the original event is kept"
        );
        assert!(
            read_lines(&server.path(&format!("out/{plugin}.jsonl"))).is_empty(),
            "{plugin} delivered nothing"
        );
        if plugin == "fatal" {
            // Disabled after the first: the rest are refused without a call.
            assert_eq!(error_code(&dlq[1]), "PluginDisabled");
        } else {
            assert_eq!(
                error_code(&dlq[2]),
                code,
                "{plugin}: every attack is caught"
            );
        }
    }
    let status = status(&server).await;
    let fatal = status["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["plugin"] == "fatal")
        .unwrap();
    assert_eq!(fatal["state"], "disabled");
    assert_eq!(fatal["disabled_reason"], "fatal: the plugin cannot work");
    assert_eq!(
        server
            .metric(r#"switchyard_plugin_failures_total{plugin="loop",rule="loop",target="t",code="PluginTimeout"}"#)
            .await,
        3.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_breaker_opens_and_closes() {
    let rule = plugin_rule("flaky", "app", "flaky", json!({}));
    let config =
        "[plugins]\nbreaker_failures = 2\nbreaker_window_ms = 10000\nbreaker_cooldown_ms = 700\n";
    let server = server(&["flaky"], &[("r.json", &rule)], config);
    let state = r#"switchyard_plugin_state{plugin="flaky",rule="flaky",target="t"}"#;

    server.put("app", json!({"fail": true})).await;
    server.put("app", json!({"fail": true})).await;
    wait_for_lines(&server.path("dlq/flaky.jsonl"), 2, WAIT).await;
    assert_eq!(server.metric(state).await, 1.0, "open");
    assert_eq!(status(&server).await["bindings"][0]["state"], "open");

    server.put("app", json!({"fail": false})).await;
    let dlq = wait_for_lines(&server.path("dlq/flaky.jsonl"), 3, WAIT).await;
    assert_eq!(error_code(&dlq[0]), "PluginTrap");
    assert_eq!(
        error_code(&dlq[2]),
        "PluginCircuitOpen",
        "a good event is not even tried"
    );
    assert!(error_message(&dlq[2]).starts_with("the plugin failed 2 times within 10 s"));

    tokio::time::sleep(Duration::from_millis(800)).await;
    server.put("app", json!({"fail": false})).await;
    wait_for_lines(&server.path("out/flaky.jsonl"), 1, WAIT).await;
    assert_eq!(server.metric(state).await, 0.0, "closed after a good trial");
    assert_eq!(status(&server).await["bindings"][0]["state"], "closed");
}

/// Replaces a plugin file atomically (as a deploy tool should).
fn replace_plugin(dir: &Path, name: &str, with: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::copy(plugin_support::plugin_file(with), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join(format!("{name}.wasm"))).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_replaced_under_load_swaps_without_losing_an_event() {
    // "shape" starts as the pass-through and becomes the redactor.
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    replace_plugin(&plugins, "shape", "passthrough");
    let rule = plugin_rule("r", "app", "shape", json!({"fields": ["detail.secret"]}));
    let server = Server::start_in(dir, &[("r.json", &rule)], "");

    const N: usize = 300;
    let mut ids = Vec::new();
    for i in 0..N {
        if i == N / 3 {
            replace_plugin(&server.path("plugins"), "shape", "redact");
        }
        if i == 2 * N / 3 {
            // A broken file keeps the redactor running and says why.
            std::fs::write(server.path("plugins/shape.wasm"), b"broken").unwrap();
        }
        ids.push(server.put("app", json!({"i": i, "secret": "s3cret"})).await);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let out = wait_for_lines(&server.path("out/r.jsonl"), N, WAIT).await;
    assert_eq!(out.len(), N, "every event delivered exactly once");
    let mut seen: Vec<&str> = out.iter().map(|e| e["id"].as_str().unwrap()).collect();
    seen.sort();
    let mut sent: Vec<&str> = ids.iter().map(String::as_str).collect();
    sent.sort();
    assert_eq!(seen, sent);
    let dlq = read_lines(&server.path("dlq/r.jsonl"));
    assert!(dlq.is_empty(), "nothing dead-lettered: {dlq:?}");
    let redacted = out
        .iter()
        .filter(|e| e["detail"]["secret"] == "REDACTED")
        .count();
    let plain = out
        .iter()
        .filter(|e| e["detail"]["secret"] == "s3cret")
        .count();
    println!("{plain} before the swap, {redacted} after");
    assert!(
        plain >= N / 3 && redacted >= N / 3,
        "{plain} plain, {redacted} redacted"
    );
    assert_eq!(plain + redacted, N);
    let last = &out
        .iter()
        .max_by_key(|e| e["detail"]["i"].as_i64())
        .unwrap()["detail"];
    assert_eq!(
        last["secret"], "REDACTED",
        "the broken file did not replace the redactor"
    );

    let status = status(&server).await;
    let shape = &status["plugins"][0];
    assert_eq!(shape["name"], "shape");
    assert_eq!(shape["status"], "error");
    assert!(
        shape["error"]
            .as_str()
            .unwrap()
            .contains("not a valid WebAssembly component"),
        "{shape}"
    );
    assert!(
        shape["running_hash"].is_string(),
        "the previous version runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_waiting_for_its_plugin_loads_when_the_plugin_appears() {
    let rule = plugin_rule("late", "app", "late", json!({}));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("plugins")).unwrap();
    let server = Server::start_in(dir, &[("late.json", &rule)], "");
    let (_, rules) = server.get("/status/rules").await;
    assert!(
        rules.contains("plugin \\\"late\\\" does not exist: expected the file plugins/late.wasm"),
        "{rules}"
    );
    replace_plugin(&server.path("plugins"), "late", "passthrough");
    wait_until("the rule to load", || async {
        let (_, rules) = server.get("/status/rules").await;
        rules.contains("\"rules\": 1")
    })
    .await;
    let id = server.put("app", json!({})).await;
    assert_eq!(
        wait_for_lines(&server.path("out/late.jsonl"), 1, WAIT).await[0]["id"],
        id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_imports_and_init_errors_reject_the_rule_at_load() {
    let rules = [
        ("fs.json", plugin_rule("fs", "app", "fs-import", json!({}))),
        (
            "init.json",
            plugin_rule("init", "app", "init-fails", json!({})),
        ),
        (
            "redact.json",
            plugin_rule("redact", "app", "redact", json!({"fields": "detail.x"})),
        ),
    ];
    let rules: Vec<(&str, &str)> = rules.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = server(&["fs-import", "init-fails", "redact"], &rules, "");
    let (_, text) = server.get("/status/rules").await;
    let status: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status["rules"], 0);
    let message = |file: &str| -> String {
        status["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(file))
            .unwrap()["problems"][0]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        message("fs.json"),
        "[0].Targets[0].Transform: plugin \"fs-import\" did not load: it imports \
         `wasi:filesystem/types@0.2.6`, which plugins may not use: a plugin gets no filesystem, \
         network or HTTP access; it may import switchyard:plugin/log and WASI's io, clocks, \
         random and cli interfaces"
    );
    assert_eq!(
        message("init.json"),
        "[0].Targets[0].Transform: plugin \"init-fails\": init refused its Config: init-fails: \
         refused the config on purpose"
    );
    assert!(
        message("redact.json").starts_with("[0].Targets[0].Transform: plugin \"redact\": init refused its Config: redact: \"fields\""),
        "{}",
        message("redact.json")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_logs_reach_the_server_log_with_the_plugins_name() {
    let rule = plugin_rule("logs", "app", "logger", json!({}));
    let server = server(&["logger"], &[("r.json", &rule)], "");
    let id = server.put("app", json!({})).await;
    wait_for_lines(&server.path("out/logs.jsonl"), 1, WAIT).await;
    wait_until("the plugin's log lines", || async {
        server
            .stderr_text()
            .contains(&format!("logger: saw event {id}"))
    })
    .await;
    let log = server.stderr_text();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("saw event {id}")))
        .unwrap();
    assert!(
        line.contains("plugin=logger") && line.contains("rule=logs"),
        "{line}"
    );
    assert!(
        log.contains(&format!("logger stdout: {id}")),
        "stdout is captured"
    );
    assert!(
        log.contains(&format!("logger stderr: {id}")),
        "stderr is captured"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repositorys_example_rules_run_its_example_plugins() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<(String, String)> = std::fs::read_dir(root.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    let rules: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let server = server(
        &["redact", "enrich", "split", "cloudevents", "passthrough"],
        &rules,
        "",
    );
    let (_, status) = server.get("/status/rules").await;
    let status: Value = serde_json::from_str(&status).unwrap();
    let files = status["files"].as_array().unwrap();
    assert_eq!(files.len(), rules.len(), "{status}");
    assert!(files.iter().all(|f| f["state"] == "ok"), "{status}");

    let signup = json!([{"Source": "com.example.shop", "DetailType": "CustomerSignedUp",
        "Detail": json!({"customer": "c-9", "email": "grace@example.com", "phone": "555-0100"}).to_string()}]);
    server.put_events(signup).await;
    let order = json!([{"Source": "com.example.shop", "DetailType": "OrderPlaced",
        "Detail": json!({"order-id": "o-7", "items": [{"sku": "x", "price": 600, "quantity": 2}]}).to_string()}]);
    server.put_events(order).await;

    let enriched = &wait_for_lines(&server.path("out/orders-enriched.jsonl"), 1, WAIT).await[0];
    assert_eq!(enriched["detail"]["total"], 1200);
    assert_eq!(enriched["detail"]["tier"], "gold");
    let lines = wait_for_lines(&server.path("out/order-lines.jsonl"), 1, WAIT).await;
    assert_eq!(lines[0]["detail"]["items"]["sku"], "x");
    wait_until("the redacted signup on stdout", || async {
        server.stdout.lock().unwrap().contains("grace")
            || server.stdout.lock().unwrap().contains("\"email\":\"***\"")
    })
    .await;
    let stdout = server.stdout.lock().unwrap().clone();
    let signup = stdout
        .lines()
        .find(|l| l.contains("CustomerSignedUp"))
        .unwrap();
    let signup: Value = serde_json::from_str(signup).unwrap();
    assert_eq!(signup["detail"]["email"], "***");
    assert_eq!(signup["detail"]["phone"], "***");
    assert_eq!(signup["detail"]["customer"], "c-9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_logs_are_truncated_and_rate_limited_per_instance() {
    let rule = plugin_rule("logs", "app", "logger", json!({}));
    let config = "[plugins]\nlogs_per_second = 2\nlog_max_bytes = 20\nthreads = 1\n";
    let server = server(&["logger"], &[("r.json", &rule)], config);
    for _ in 0..4 {
        server.put("app", json!({})).await;
    }
    wait_for_lines(&server.path("out/logs.jsonl"), 4, WAIT).await;
    // The next line after the one-second window reports what was dropped.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    server.put("app", json!({})).await;
    wait_until("the dropped-lines report", || async {
        server
            .stderr_text()
            .contains("log lines dropped (plugins.logs_per_second = 2)")
    })
    .await;
    let log = server.stderr_text();
    let kept = log
        .lines()
        .filter(|l| l.contains(" plugin: ") && l.contains("context="))
        .count();
    assert!(kept <= 4, "two lines per second and instance: {log}");
    let cut = log
        .lines()
        .find(|l| l.contains("logger: saw event "))
        .unwrap();
    assert!(
        cut.contains(" bytes, truncated) plugin=logger"),
        "cut to 20 bytes: {cut}"
    );
}
