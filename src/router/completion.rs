//! Delivery completion: the handle every accepted event carries, which resolves
//! once all of its deliveries are done (end-to-end acknowledgement, in the spirit
//! of Vector's).
//!
//! A [`Completion`] stands for one outstanding piece of work on one accepted
//! event. The source creates the first; the router splits one off per delivery
//! and then finishes its own; a target finishes its piece when the event was
//! delivered, written to a dead-letter destination, or given up. When the last
//! piece is finished the receiver gets the worst outcome of all of them. A piece
//! dropped without being finished (a bug, a panic, a cut-off shutdown) counts as
//! `Abandoned`, so a Kafka source never commits an offset for work that was lost.
//!
//! It also holds the event's admission permit (the router's in-flight bound), so
//! memory is released exactly when the work is done. It knows nothing of targets.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::{OwnedSemaphorePermit, oneshot};

/// How one piece of work ended, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Outcome {
    /// Acknowledged by the target (or matched no rule).
    Delivered = 0,
    /// Written to a dead-letter destination with the reason.
    DeadLettered = 1,
    /// No dead-letter destination: logged at error level with the reason.
    GivenUp = 2,
    /// Dropped unfinished (shutdown cut it off without a dead-letter
    /// destination, or a bug). A Kafka source must not commit past it.
    Abandoned = 3,
}

impl Outcome {
    fn from_u8(v: u8) -> Outcome {
        match v {
            0 => Outcome::Delivered,
            1 => Outcome::DeadLettered,
            2 => Outcome::GivenUp,
            _ => Outcome::Abandoned,
        }
    }

    /// Whether the event's fate is settled: nothing needs it re-delivered.
    pub fn is_settled(self) -> bool {
        self != Outcome::Abandoned
    }
}

struct Shared {
    worst: AtomicU8,
    notify: Mutex<Option<oneshot::Sender<Outcome>>>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Release the admission permit before telling the waiter: whoever is
        // told the event is done may at once admit the next one, and must find
        // its slot free (fields would otherwise drop only after this body).
        drop(self.permit.take());
        let outcome = Outcome::from_u8(*self.worst.get_mut());
        if let Some(tx) = self.notify.get_mut().ok().and_then(Option::take) {
            let _ = tx.send(outcome);
        }
    }
}

/// One outstanding piece of work on an accepted event.
pub struct Completion {
    shared: Option<Arc<Shared>>,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Completion")
    }
}

/// Resolves with the worst outcome once every piece is finished.
pub type CompletionReceiver = oneshot::Receiver<Outcome>;

impl Completion {
    /// A completion whose end someone waits for (a Kafka source commits on it).
    pub fn new(permit: Option<OwnedSemaphorePermit>) -> (Completion, CompletionReceiver) {
        let (tx, rx) = oneshot::channel();
        (Completion::with(Some(tx), permit), rx)
    }

    /// A completion nobody waits for (HTTP ingest answers on acceptance).
    pub fn detached(permit: Option<OwnedSemaphorePermit>) -> Completion {
        Completion::with(None, permit)
    }

    fn with(tx: Option<oneshot::Sender<Outcome>>, permit: Option<OwnedSemaphorePermit>) -> Self {
        Completion {
            shared: Some(Arc::new(Shared {
                worst: AtomicU8::new(Outcome::Delivered as u8),
                notify: Mutex::new(tx),
                permit,
            })),
        }
    }

    /// Another outstanding piece of the same event's work.
    pub fn split(&self) -> Completion {
        Completion {
            shared: self.shared.clone(),
        }
    }

    /// This piece is done, with that outcome.
    pub fn finish(mut self, outcome: Outcome) {
        if let Some(shared) = self.shared.take() {
            shared.worst.fetch_max(outcome as u8, Ordering::AcqRel);
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared
                .worst
                .fetch_max(Outcome::Abandoned as u8, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_when_the_last_piece_finishes_with_the_worst_outcome() {
        let (first, mut rx) = Completion::new(None);
        let a = first.split();
        let b = first.split();
        first.finish(Outcome::Delivered);
        assert!(rx.try_recv().is_err(), "two pieces are still out");
        b.finish(Outcome::DeadLettered);
        assert!(rx.try_recv().is_err());
        a.finish(Outcome::Delivered);
        assert_eq!(rx.try_recv().unwrap(), Outcome::DeadLettered);
    }

    #[test]
    fn a_dropped_piece_is_abandoned() {
        let (first, mut rx) = Completion::new(None);
        let lost = first.split();
        first.finish(Outcome::Delivered);
        drop(lost);
        assert_eq!(rx.try_recv().unwrap(), Outcome::Abandoned);
        assert!(!Outcome::Abandoned.is_settled());
    }

    #[test]
    fn the_permit_is_released_with_the_last_piece() {
        let sem = Arc::new(tokio::sync::Semaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let c = Completion::detached(Some(permit));
        let piece = c.split();
        c.finish(Outcome::Delivered);
        assert_eq!(sem.available_permits(), 0);
        piece.finish(Outcome::GivenUp);
        assert_eq!(sem.available_permits(), 1);
    }
}
