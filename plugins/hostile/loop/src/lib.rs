//! Hostile test plugin `loop`: `transform` never returns (an infinite loop
//! that makes no calls), to test the host's per-call time limit (fuel or
//! epoch interruption). `init` succeeds.
//!
//! Config: none.

use std::hint::black_box;

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// Holds nothing.
pub struct Loop;

/// Counts forever; `black_box` keeps the optimiser from reasoning about it.
pub fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

impl Plugin for Loop {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Loop)
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        spin()
    }
}

switchyard_plugin::export_plugin!(Loop);

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_plugin::testing::Harness;

    #[test]
    fn init_succeeds() {
        // transform would never return, so only init is tested natively.
        assert!(Harness::<Loop>::try_new("{}").is_ok());
    }
}
