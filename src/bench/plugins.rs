//! `switchyard bench plugins`: what a Wasm plugin adds per event, against the
//! same logic in native Rust, in one run: a 1 KB event through the
//! `passthrough` plugin (the fixed cost of a call: entering the sandbox,
//! copying the event in and the output out, the deadline) and through the
//! `redact` example (mostly JSON parsing inside the guest), and what creating
//! one instance costs (pre-instantiated component, pooling allocator, `init`).
//! Calls go through `Binding::transform` on this thread, as the router's
//! transform threads call it.

use std::path::Path;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use serde_json::Value;

use crate::config::PluginsConfig;
use crate::transform::wasm::{Binding, Input, PluginHost};

/// An EventBridge envelope of about 1 KB with a customer to redact.
pub fn event_1kb() -> String {
    let items: Vec<Value> = (0..8)
        .map(|i| serde_json::json!({"sku": format!("SKU-{i:04}"), "price": 10 + i, "quantity": 1 + i % 3}))
        .collect();
    let event = serde_json::json!({
        "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "OrderPlaced", "source": "com.example.shop",
        "account": "123456789012", "time": "2026-12-01T10:00:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:shop:eu-west-1:123456789012:order/o-1"],
        "detail": {
            "order-id": "o-1", "total": 260, "currency": "EUR",
            "customer": {"id": "c-42", "email": "ada@example.com", "phone": "+44 20 7946 0000",
                         "address": {"street": "1 Example Road", "city": "London", "postcode": "N1 1AA"}},
            "card": "4111111111111111", "items": items,
            "notes": "leave at the door if nobody answers; ring twice; the side gate is open until six",
            "channel": "web", "campaign": "winter-sale-2026", "locale": "en-GB", "referrer": "newsletter-12",
        }
    });
    event.to_string()
}

/// The fields the redaction benchmark masks.
pub const REDACT_FIELDS: [&str; 3] = [
    "detail.customer.email",
    "detail.customer.phone",
    "detail.card",
];

/// The `redact` example's logic in native Rust, for comparison.
pub fn redact_native(event: &[u8], fields: &[&str]) -> Bytes {
    let mut value: Value = serde_json::from_slice(event).expect("the benchmark event is JSON");
    for field in fields {
        let mut at = &mut value;
        let mut parts = field.split('.').peekable();
        while let Some(part) = parts.next() {
            let Some(next) = at.get_mut(part) else { break };
            if parts.peek().is_none() {
                *next = Value::String("REDACTED".into());
                break;
            }
            at = next;
        }
    }
    Bytes::from(serde_json::to_vec(&value).expect("serializable"))
}

/// One measured line: nanoseconds per call.
pub struct Measured {
    pub name: String,
    pub ns_per_call: f64,
}

fn time_per_call(calls: usize, rounds: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..calls / 10 + 1 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..calls {
            f();
        }
        best = best.min(started.elapsed().as_nanos() as f64 / calls as f64);
    }
    best
}

/// Runs the benchmark with the plugins of `dir`; the best of `rounds` rounds.
pub fn run(dir: &Path, calls: usize, rounds: usize) -> Result<Vec<Measured>, String> {
    let config = PluginsConfig::default();
    let host = PluginHost::new(Path::new("/nonexistent"), &config, 2 << 20, None)?;
    let bind = |name: &str, plugin_config: &str| -> Result<Binding, String> {
        let plugin = host.load_file(&dir.join(format!("{name}.wasm")))?;
        host.bind_plugin(plugin, plugin_config, host.limits(&Default::default()))
    };
    let passthrough = bind("passthrough", "{}")?;
    let fields = serde_json::to_string(&REDACT_FIELDS).expect("strings");
    let redact = bind("redact", &format!(r#"{{"fields": {fields}}}"#))?;
    let event = event_1kb();
    let bytes = Bytes::from(event.clone());
    let now = SystemTime::now();
    // As the router calls a plugin on a target without input shaping (the
    // event as validated at ingest), and as it calls one after shaping.
    let envelope = Input {
        bytes: &bytes,
        known_object: true,
    };
    let plain = Input {
        bytes: &bytes,
        known_object: false,
    };

    // Both must do the work being compared.
    let out = redact.transform(plain, now).map_err(|f| f.message)?;
    let native = redact_native(event.as_bytes(), &REDACT_FIELDS);
    let same: Value = serde_json::from_slice(&out[0]).map_err(|e| e.to_string())?;
    if same != serde_json::from_slice::<Value>(&native).map_err(|e| e.to_string())? {
        return Err("the redact plugin and its native twin disagree".into());
    }

    let mut results = Vec::new();
    let mut measure = |name: &str, calls: usize, f: &mut dyn FnMut()| {
        results.push(Measured {
            name: name.to_string(),
            ns_per_call: time_per_call(calls, rounds, f),
        });
    };
    measure("passthrough, wasm plugin (the event)", calls, &mut || {
        std::hint::black_box(passthrough.transform(envelope, now).unwrap());
    });
    measure(
        "passthrough, wasm plugin (shaped input)",
        calls,
        &mut || {
            std::hint::black_box(passthrough.transform(plain, now).unwrap());
        },
    );
    measure(
        "passthrough, native (the event's bytes, shared)",
        calls,
        &mut || {
            std::hint::black_box(vec![bytes.clone()]);
        },
    );
    measure("redact 3 fields, wasm plugin", calls, &mut || {
        std::hint::black_box(redact.transform(envelope, now).unwrap());
    });
    measure("redact 3 fields, native serde_json", calls, &mut || {
        std::hint::black_box(redact_native(event.as_bytes(), &REDACT_FIELDS));
    });
    measure(
        "new instance + init (passthrough)",
        (calls / 100).max(20),
        &mut || {
            passthrough.instantiate_once().unwrap();
        },
    );
    Ok(results)
}

/// The report `bench plugins` prints.
pub fn report(results: &[Measured], event_bytes: usize) -> String {
    let mut out = format!("plugin cost per event, {event_bytes}-byte event (best of rounds):\n");
    for r in results {
        out.push_str(&format!(
            "  {:<50} {:>10.3} µs\n",
            r.name,
            r.ns_per_call / 1000.0
        ));
    }
    let get = |prefix: &str| {
        results
            .iter()
            .find(|r| r.name.starts_with(prefix))
            .map(|r| r.ns_per_call)
    };
    for (case, name) in [
        ("the event", "passthrough, wasm plugin (the event)"),
        ("a shaped input", "passthrough, wasm plugin (shaped"),
    ] {
        if let (Some(w), Some(n)) = (get(name), get("passthrough, native")) {
            out.push_str(&format!(
                "  pass-through adds {:.3} µs per event on {case} (target: at most 1 µs)\n",
                (w - n) / 1000.0
            ));
        }
    }
    if let (Some(w), Some(n)) = (get("redact 3 fields, wasm"), get("redact 3 fields, native")) {
        out.push_str(&format!(
            "  redaction adds {:.3} µs per event ({:.1}x native)\n",
            (w - n) / 1000.0,
            w / n
        ));
    }
    out
}
