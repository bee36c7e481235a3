//! Hostile test plugin `huge-output`: returns far more than an event's worth,
//! to test the host's output limits.
//!
//! Config: `{"mode": "big" | "many", "bytes": 8388608, "count": 1000}`
//!
//! - `"big"` (default): one output of exactly `bytes` bytes (default 8 MiB), a
//!   valid JSON object `{"id": …, "padding": "xxx…"}`, so only its size is wrong.
//! - `"many"`: `count` outputs (default 1000), each the input event unchanged.

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// What to return.
#[derive(Debug, PartialEq, Eq)]
pub enum HugeOutput {
    /// One output of this many bytes.
    Big(usize),
    /// This many copies of the event.
    Many(usize),
}

/// One JSON object of exactly `bytes` bytes (at least the 24 the frame needs).
pub fn big_object(bytes: usize) -> String {
    const HEAD: &str = r#"{"id":"huge","padding":""#;
    const TAIL: &str = r#""}"#;
    let pad = bytes.saturating_sub(HEAD.len() + TAIL.len());
    let mut s = String::with_capacity(HEAD.len() + pad + TAIL.len());
    s.push_str(HEAD);
    s.extend(std::iter::repeat_n('x', pad));
    s.push_str(TAIL);
    s
}

impl Plugin for HugeOutput {
    fn init(config: Config) -> Result<Self, String> {
        let size = |key, default| -> Result<usize, String> {
            let n = config
                .u64_or(key, default)
                .map_err(|e| format!("huge-output: {e}"))?;
            usize::try_from(n).map_err(|_| format!("huge-output: {key:?} is too large"))
        };
        match config
            .str_or("mode", "big")
            .map_err(|e| format!("huge-output: {e}"))?
        {
            "big" => Ok(HugeOutput::Big(size("bytes", 8 << 20)?)),
            "many" => Ok(HugeOutput::Many(size("count", 1000)?)),
            other => Err(format!(
                r#"huge-output: "mode" must be "big" or "many", not {other:?}"#
            )),
        }
    }

    fn transform(&mut self, event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        match *self {
            HugeOutput::Big(bytes) => Ok(Outputs::raw(big_object(bytes))),
            HugeOutput::Many(count) => {
                let mut out = Outputs::none();
                for _ in 0..count {
                    out.push_raw(event.text());
                }
                Ok(out)
            }
        }
    }
}

switchyard_plugin::export_plugin!(HugeOutput);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;
    use switchyard_plugin::{Value, json};

    #[test]
    fn big_is_one_8_mib_json_object() {
        let mut h = Harness::<HugeOutput>::new("{}");
        let out = h
            .transform_raw(r#"{"id": "e"}"#, Delivery::default())
            .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), 8 * 1024 * 1024);
        let v: Value = serde_json_check(&out[0]);
        assert!(v.is_object());
    }

    fn serde_json_check(text: &str) -> Value {
        switchyard_plugin::serde_json::from_str(text).expect("valid JSON")
    }

    #[test]
    fn many_is_count_copies() {
        let mut h = Harness::<HugeOutput>::new(r#"{"mode": "many"}"#);
        let out = h.transform(r#"{"id": "e"}"#).unwrap();
        assert_eq!(out.len(), 1000);
        assert!(out.iter().all(|o| *o == json!({"id": "e"})));
        let mut h = Harness::<HugeOutput>::new(r#"{"mode": "many", "count": 3}"#);
        assert_eq!(h.transform("{}").unwrap().len(), 3);
    }

    #[test]
    fn sizes_and_modes() {
        assert_eq!(big_object(100).len(), 100);
        assert_eq!(serde_json_check(&big_object(0))["padding"], json!(""));
        let h = Harness::<HugeOutput>::new(r#"{"bytes": 64}"#);
        assert_eq!(*h.plugin().unwrap(), HugeOutput::Big(64));
        assert!(Harness::<HugeOutput>::try_new(r#"{"mode": "wide"}"#).is_err());
    }
}
