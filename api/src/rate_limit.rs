//! Per-tenant request rate on `/v1` and `/mcp` (docs/api.md, `RESTOCK_RATE_LIMIT`): one GCRA bucket
//! per tenant (governor), so a tenant over its rate is answered 429 `rate_limited` with
//! `Retry-After` while every other tenant goes on untouched. The key is the tenant of a verified
//! token: an unverified claim would let anyone drain another tenant's bucket.

use crate::problem::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use restock_domain::TenantId;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests between two sweeps that drop the buckets of tenants back at a full burst: such a
/// bucket is the same as none, and without the sweep the map would keep one per tenant ever
/// seen. A sweep walks the map once, so it runs rarely.
const PRUNE_EVERY: u64 = 10_000;

/// Requests per second per tenant; the burst is twice that. `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit(Option<NonZeroU32>);

impl RateLimit {
    pub const DEFAULT_PER_SECOND: u32 = 100;

    /// `0` turns the limit off.
    pub fn per_second(n: u32) -> Self {
        Self(NonZeroU32::new(n))
    }

    pub fn off() -> Self {
        Self(None)
    }

    pub fn get(self) -> Option<NonZeroU32> {
        self.0
    }

    /// `RESTOCK_RATE_LIMIT`: a whole number of requests per second, `0` for none.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<u32>()
            .map(Self::per_second)
            .map_err(|_| {
                format!(
                    "RESTOCK_RATE_LIMIT must be a whole number of requests per second (0 turns it \
                     off), got {raw:?}"
                )
            })
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::per_second(Self::DEFAULT_PER_SECOND)
    }
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Self::parse(raw)
    }
}

/// One bucket per tenant, shared by every request the server answers.
pub struct TenantRateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<TenantId>>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl std::fmt::Debug for TenantRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRateLimiter")
            .field("on", &self.limiter.is_some())
            .finish()
    }
}

impl TenantRateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let limiter = limit.get().map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Take one request from the tenant's bucket, or say how long until one is free.
    pub fn check(&self, tenant: &TenantId) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        limiter.check_key(tenant).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Whole seconds, rounded up: a client that waits what it is told gets in.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::rate_limited(secs)
        })
    }

    /// Forget the buckets that are full again (their tenants have not called for a while).
    pub fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Tenants with a bucket in memory.
    pub fn tenants_tracked(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

impl Default for TenantRateLimiter {
    fn default() -> Self {
        Self::new(RateLimit::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_gets_its_burst_then_429_while_another_is_untouched() {
        let limiter = TenantRateLimiter::new(RateLimit::per_second(5));
        let a = TenantId::parse("a").expect("tenant");
        let b = TenantId::parse("b").expect("tenant");
        for _ in 0..10 {
            assert!(limiter.check(&a).is_ok(), "the burst is twice the rate");
        }
        let refused = limiter.check(&a).expect_err("over the burst");
        assert_eq!(refused.code(), crate::problem::ErrorCode::RateLimited);
        assert!(limiter.check(&b).is_ok());
    }

    #[test]
    fn buckets_of_tenants_back_at_a_full_burst_are_swept() {
        // A million a second: one request's cell is back within a microsecond, so a short sleep
        // makes every bucket full again without a fake clock.
        let limiter = TenantRateLimiter::new(RateLimit::per_second(1_000_000));
        for i in 0..1_000 {
            let tenant = TenantId::parse(&format!("t{i}")).expect("tenant");
            assert!(limiter.check(&tenant).is_ok());
        }
        assert_eq!(limiter.tenants_tracked(), 1_000);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // The sweep runs by itself every PRUNE_EVERY checks, here all from one tenant.
        let busy = TenantId::parse("busy").expect("tenant");
        for _ in 0..PRUNE_EVERY {
            assert!(limiter.check(&busy).is_ok());
        }
        assert!(
            limiter.tenants_tracked() <= 2,
            "idle tenants' buckets are gone: {} left",
            limiter.tenants_tracked()
        );
    }

    #[test]
    fn zero_is_off_and_bad_values_name_the_variable() {
        let off = TenantRateLimiter::new(RateLimit::parse("0").expect("0 is valid"));
        let a = TenantId::parse("a").expect("tenant");
        for _ in 0..10_000 {
            assert!(off.check(&a).is_ok());
        }
        for bad in ["-1", "ten", "1.5", ""] {
            let err = RateLimit::parse(bad).expect_err(bad);
            assert!(err.contains("RESTOCK_RATE_LIMIT"), "{err}");
        }
        assert_eq!(RateLimit::default().get().map(NonZeroU32::get), Some(100));
    }
}
