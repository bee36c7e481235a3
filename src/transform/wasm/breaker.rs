//! A plugin binding's circuit breaker: after `failures` failures within
//! `window`, its events go straight to the dead-letter path for `cooldown`;
//! then one call is let through, and its result closes or re-opens it.
//!
//! The closed, healthy path takes no lock (one atomic load); failures and the
//! open states take a mutex, which is rare by definition.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// What `/status` and the `switchyard_plugin_state` gauge show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakerState {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

pub struct Breaker {
    failures: usize,
    window: Duration,
    cooldown: Duration,
    state: AtomicU8,
    inner: Mutex<Inner>,
}

struct Inner {
    recent: VecDeque<Instant>,
    open_until: Option<Instant>,
    probing: bool,
}

impl Breaker {
    pub fn new(failures: u32, window: Duration, cooldown: Duration) -> Breaker {
        Breaker {
            failures: failures.max(1) as usize,
            window,
            cooldown,
            state: AtomicU8::new(BreakerState::Closed as u8),
            inner: Mutex::new(Inner {
                recent: VecDeque::new(),
                open_until: None,
                probing: false,
            }),
        }
    }

    pub fn state(&self) -> BreakerState {
        match self.state.load(Ordering::Acquire) {
            0 => BreakerState::Closed,
            1 => BreakerState::Open,
            _ => BreakerState::HalfOpen,
        }
    }

    /// Whether a call may go ahead now; `Err` carries how long until a retry.
    pub fn admit(&self, now: Instant) -> Result<(), Duration> {
        if self.state() == BreakerState::Closed {
            return Ok(());
        }
        let mut inner = self.lock();
        match inner.open_until {
            Some(until) if now < until => Err(until - now),
            Some(_) if !inner.probing => {
                inner.probing = true;
                self.set(BreakerState::HalfOpen);
                Ok(())
            }
            Some(_) => Err(Duration::ZERO),
            None => Ok(()),
        }
    }

    pub fn success(&self) {
        if self.state() == BreakerState::Closed {
            return;
        }
        let mut inner = self.lock();
        if inner.probing {
            inner.probing = false;
            inner.open_until = None;
            inner.recent.clear();
            self.set(BreakerState::Closed);
            tracing::info!("plugin circuit breaker closed: the trial call succeeded");
        }
    }

    /// Records a failure; returns true when this one opened the breaker.
    pub fn failure(&self, now: Instant) -> bool {
        let mut inner = self.lock();
        if inner.probing {
            inner.probing = false;
            inner.open_until = Some(now + self.cooldown);
            self.set(BreakerState::Open);
            return true;
        }
        if inner.open_until.is_some() {
            return false;
        }
        while inner
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            inner.recent.pop_front();
        }
        inner.recent.push_back(now);
        if inner.recent.len() >= self.failures {
            inner.recent.clear();
            inner.open_until = Some(now + self.cooldown);
            self.set(BreakerState::Open);
            return true;
        }
        false
    }

    fn set(&self, state: BreakerState) {
        self.state.store(state as u8, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_k_failures_in_the_window_and_closes_after_a_good_trial() {
        let b = Breaker::new(3, Duration::from_secs(10), Duration::from_secs(30));
        let t0 = Instant::now();
        assert!(!b.failure(t0));
        assert!(!b.failure(t0 + Duration::from_secs(1)));
        assert!(b.failure(t0 + Duration::from_secs(2)), "the third opens it");
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.admit(t0 + Duration::from_secs(3)).is_err());
        // After the cooldown one trial goes through; a second waits for it.
        let later = t0 + Duration::from_secs(33);
        assert!(b.admit(later).is_ok());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.admit(later).is_err());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.admit(later).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up_and_a_bad_trial_reopens() {
        let b = Breaker::new(2, Duration::from_secs(1), Duration::from_secs(5));
        let t0 = Instant::now();
        b.failure(t0);
        assert!(
            !b.failure(t0 + Duration::from_secs(3)),
            "the first one expired"
        );
        assert!(b.failure(t0 + Duration::from_millis(3500)));
        let trial = t0 + Duration::from_secs(9);
        assert!(b.admit(trial).is_ok());
        assert!(b.failure(trial), "a failed trial opens it again");
        assert!(b.admit(trial + Duration::from_secs(1)).is_err());
    }
}
