//! Hostile test plugin `recursion`: `transform` recurses without bound until
//! the stack overflows, to test that the host survives it. `init` succeeds.
//!
//! Config: `{"mode": "shadow" | "native"}`
//!
//! - `"shadow"` (default): each frame keeps a 256-byte buffer in linear memory
//!   (Rust's shadow stack, 1 MiB), which runs out first: in wasmtime the trap
//!   is `out of bounds memory access` (the stack is placed first in memory, so
//!   it overflows below address 0 rather than into data).
//! - `"native"`: frames with only wasm locals, so the engine's own call stack
//!   runs out first: wasmtime traps with `call stack exhausted`.

use std::hint::black_box;

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// Which stack to overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recursion {
    /// Linear-memory frames (the shadow stack).
    Shadow,
    /// Wasm-locals-only frames (the engine's call stack).
    Native,
}

/// Recurses `limit` levels (`u64::MAX` in the plugin: until the stack runs
/// out), returning a value that depends on every frame.
#[inline(never)]
pub fn recurse(depth: u64, limit: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[(depth % 256) as usize] = depth as u8;
    let frame = black_box(frame);
    if depth >= black_box(limit) {
        return 0;
    }
    let below = recurse(depth + 1, limit);
    black_box(below.wrapping_add(u64::from(frame[(depth % 256) as usize])))
}

/// Recurses `limit` levels with no memory traffic: `black_box` (which would
/// spill to the shadow stack) is kept out, and the result is not an
/// accumulator LLVM could turn into a loop.
#[inline(never)]
pub fn recurse_native(depth: u64, limit: u64) -> u64 {
    if depth >= limit {
        return depth;
    }
    recurse_native(depth + 1, limit)
        .wrapping_mul(31)
        .rotate_left((depth & 7) as u32)
        ^ depth
}

impl Plugin for Recursion {
    fn init(config: Config) -> Result<Self, String> {
        match config
            .str_or("mode", "shadow")
            .map_err(|e| format!("recursion: {e}"))?
        {
            "shadow" => Ok(Recursion::Shadow),
            "native" => Ok(Recursion::Native),
            other => Err(format!(
                r#"recursion: "mode" must be "shadow" or "native", not {other:?}"#
            )),
        }
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        // The limit comes through black_box so neither recursion is bounded
        // at compile time.
        let limit = black_box(u64::MAX);
        let n = match self {
            Recursion::Shadow => recurse(0, limit),
            Recursion::Native => recurse_native(0, limit),
        };
        Err(TransformError::fatal(format!(
            "recursion: returned {n} without overflowing"
        )))
    }
}

switchyard_plugin::export_plugin!(Recursion);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_recursion_returns() {
        // Sum of (depth mod 256) for depth in 0..100.
        assert_eq!(recurse(0, 100), (0..100).sum::<u64>());
        let expected = (0..10u64).rev().fold(10u64, |below, d| {
            below.wrapping_mul(31).rotate_left((d & 7) as u32) ^ d
        });
        assert_eq!(recurse_native(0, 10), expected);
    }

    #[test]
    fn modes() {
        use switchyard_plugin::testing::Harness;
        let h = Harness::<Recursion>::new("{}");
        assert_eq!(*h.plugin().unwrap(), Recursion::Shadow);
        let h = Harness::<Recursion>::new(r#"{"mode": "native"}"#);
        assert_eq!(*h.plugin().unwrap(), Recursion::Native);
        assert!(Harness::<Recursion>::try_new(r#"{"mode": "deep"}"#).is_err());
    }
}
