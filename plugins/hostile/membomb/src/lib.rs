//! Hostile test plugin `membomb`: `transform` allocates 1 MiB blocks, touching
//! every page and keeping them all, until allocation fails. Rust then aborts
//! (`memory allocation of 1048576 bytes failed` on stderr, then a trap), so
//! this tests the host's per-instance memory limit. `init` succeeds.
//!
//! Config: none.

use std::hint::black_box;

use switchyard_plugin::{Config, Delivery, Event, Outputs, Plugin, TransformError};

/// The block size.
pub const BLOCK: usize = 1 << 20;

/// Holds nothing.
pub struct Membomb;

/// Allocates and fills `BLOCK`-sized blocks, keeping all of them, for at most
/// `limit` blocks (`usize::MAX` in the plugin: until allocation fails, which
/// aborts). Returns the number of blocks.
pub fn bomb(limit: usize) -> usize {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    while kept.len() < limit {
        // vec![1; n] writes every byte, so the memory is really committed.
        kept.push(black_box(vec![1u8; BLOCK]));
    }
    black_box(&kept);
    kept.len()
}

impl Plugin for Membomb {
    fn init(_config: Config) -> Result<Self, String> {
        Ok(Membomb)
    }

    fn transform(&mut self, _event: Event, _info: Delivery) -> Result<Outputs, TransformError> {
        let blocks = bomb(usize::MAX);
        Err(TransformError::fatal(format!(
            "membomb: allocated {blocks} MiB without failing"
        )))
    }
}

switchyard_plugin::export_plugin!(Membomb);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bomb_allocates_and_keeps_blocks() {
        // Natively, only a bounded run: the real one ends in an abort.
        assert_eq!(bomb(4), 4);
    }
}
