//! A circuit breaker for the LLM provider: after `threshold` consecutive failures it opens and
//! every decision goes straight to the policy; after `cooldown` one trial call is let through
//! (half-open); its success closes the circuit, its failure opens it again.
//!
//! Per process, not per tenant: it protects against a sick provider, which all tenants share.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_running: bool },
}

#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// May a call go out now? In half-open state only one trial at a time.
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_at(Instant::now())
    }

    pub fn try_acquire_at(&self, now: Instant) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        match *state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen {
                    trial_running: true,
                };
                true
            }
            State::Open { .. } => false,
            State::HalfOpen {
                trial_running: false,
            } => {
                *state = State::HalfOpen {
                    trial_running: true,
                };
                true
            }
            State::HalfOpen {
                trial_running: true,
            } => false,
        }
    }

    pub fn success(&self) {
        if let Ok(mut state) = self.state.lock() {
            *state = State::Closed { failures: 0 };
        }
    }

    pub fn failure(&self) {
        self.failure_at(Instant::now())
    }

    pub fn failure_at(&self, now: Instant) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            _ => State::Open {
                until: now + self.cooldown,
            },
        };
    }

    /// A call that was let through but told nothing about the provider's health (e.g. the
    /// reply was well-formed but its tool call invalid) releases a half-open trial slot.
    pub fn neutral(&self) {
        self.success()
    }

    pub fn is_open(&self) -> bool {
        matches!(self.state.lock().map(|s| *s), Ok(State::Open { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_half_opens_after_cooldown() {
        let b = CircuitBreaker::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(b.try_acquire_at(t0));
        b.failure_at(t0);
        assert!(b.try_acquire_at(t0), "one failure is below the threshold");
        b.failure_at(t0);
        assert!(
            !b.try_acquire_at(t0 + Duration::from_secs(9)),
            "open during the cool-down"
        );
        let later = t0 + Duration::from_secs(10);
        assert!(b.try_acquire_at(later), "half-open: one trial");
        assert!(!b.try_acquire_at(later), "only one trial at a time");
        b.failure_at(later);
        assert!(
            !b.try_acquire_at(later + Duration::from_secs(1)),
            "a failed trial re-opens"
        );
        let again = later + Duration::from_secs(10);
        assert!(b.try_acquire_at(again));
        b.success();
        assert!(
            b.try_acquire_at(again) && b.try_acquire_at(again),
            "closed after a good trial"
        );
    }
}
