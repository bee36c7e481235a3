//! `Transform`: the Wasm plugin a target runs (`Plugin`, `Config`) and its own
//! sandbox `Limits`; and asking the plugin host whether it runs with that
//! `Config` (the host's `init` answers), when a host is given.

use crate::json::{Json, JsonValue};
use crate::rules::model::{Transform, TransformLimits};

use super::{MAX_NAME, Reader, join};

const TIMEOUT_MS: (u64, u64) = (1, 60_000);
const MEMORY_MIB: (u64, u64) = (1, 4096);
const OUTPUTS: (u64, u64) = (1, 10_000);
const OUTPUT_BYTES: (u64, u64) = (1, 64 * 1024 * 1024);

impl Reader<'_> {
    pub(super) fn transform(&mut self, json: &Json, location: &str) -> Option<Transform> {
        let obj = self.object(json, location, &["Plugin", "Config", "Limits"])?;
        let plugin = match obj.get("Plugin") {
            Some(v) => {
                let here = join(location, "Plugin");
                self.name(
                    v,
                    &here,
                    "plugin name",
                    MAX_NAME,
                    |c| c.is_ascii_alphanumeric() || c == '_' || c == '-',
                    "letters, digits, '_' or '-'",
                )
                .and_then(|name| {
                    let path = self.context.plugins_dir.join(format!("{name}.wasm"));
                    // With a plugin host, it judges the plugin (and says why
                    // one is missing or broken) once the target is read.
                    if self.context.plugins.is_some() || path.is_file() {
                        Some((name, path))
                    } else {
                        self.problem(
                            v,
                            &here,
                            format!(
                                "plugin \"{name}\" does not exist: expected the file {}",
                                path.display()
                            ),
                        );
                        None
                    }
                })
            }
            None => {
                self.missing(&obj, location, "Plugin");
                None
            }
        };
        let config = match obj.get("Config") {
            None => Some("{}".to_string()),
            Some(
                v @ Json {
                    value: JsonValue::Object(_),
                    ..
                },
            ) => Some(v.to_string()),
            Some(v) => {
                self.type_problem(v, &join(location, "Config"), "an object");
                None
            }
        };
        let limits = match obj.get("Limits") {
            None => Some(TransformLimits::default()),
            Some(v) => self.transform_limits(v, &join(location, "Limits")),
        };
        let (plugin, plugin_path) = plugin?;
        Some(Transform {
            plugin: plugin.to_string(),
            plugin_path,
            config: config?,
            limits: limits?,
        })
    }

    fn transform_limits(&mut self, json: &Json, location: &str) -> Option<TransformLimits> {
        let keys = [
            ("TimeoutMilliseconds", TIMEOUT_MS),
            ("MemoryMiB", MEMORY_MIB),
            ("MaximumOutputs", OUTPUTS),
            ("MaximumOutputBytes", OUTPUT_BYTES),
        ];
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        let obj = self.object(json, location, &names)?;
        let mut values = [None; 4];
        let mut ok = true;
        for (slot, (key, range)) in values.iter_mut().zip(keys) {
            if let Some(v) = obj.get(key) {
                *slot = self.whole_number(v, &join(location, key), range);
                ok &= slot.is_some();
            }
        }
        let [timeout_ms, memory_mib, outputs, output_bytes] = values;
        ok.then_some(TransformLimits {
            timeout_ms,
            memory_mib,
            maximum_outputs: outputs.map(|n| n as usize),
            maximum_output_bytes: output_bytes.map(|n| n as usize),
        })
    }

    /// Asks the plugin host whether `transform` runs for this rule's target.
    pub(super) fn check_plugin(
        &mut self,
        transform: &Transform,
        at: &Json,
        location: &str,
        rule: &str,
        target: &str,
    ) {
        let Some(host) = self.context.plugins.clone() else {
            return;
        };
        if let Err(why) = host.0.check(transform, rule, target) {
            self.problem(at, location, why);
        }
    }
}
