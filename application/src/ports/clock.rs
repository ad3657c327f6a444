use chrono::{DateTime, Utc};

/// Time as a port, so that expiry, forecasts, replays and anything that reads the calendar
/// ("today", "last month", the figures check) can be tested on a clock of the test's choosing.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock moved by a fixed offset: what test servers run on, so that their calendar
/// is the test's (a suite that passed in November must pass in December) while timeouts,
/// expiries and leases still see time pass at the real rate. An offset rather than a start
/// instant, so that a test process and the server binary it spawns agree on "now" to the
/// microsecond (the child is handed the offset, not a start it would reach late).
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: chrono::Duration,
}

impl ShiftedClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            offset: start - Utc::now(),
        }
    }

    pub fn with_offset(offset: chrono::Duration) -> Self {
        Self { offset }
    }

    pub fn offset(&self) -> chrono::Duration {
        self.offset
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_it_is_told_and_runs_forward() {
        let start = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .expect("an instant")
            .with_timezone(&Utc);
        let clock = ShiftedClock::starting_at(start);
        let first = clock.now();
        assert!(first >= start && first - start < chrono::Duration::seconds(5));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(clock.now() > first);
    }
}
