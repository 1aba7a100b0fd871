//! Fair limits (issue 17): every GraphQL request is charged its cost (the fields it selects
//! once its fragments are expanded, at least 1) against two buckets, its caller's (the
//! token's subject) and its address's, each refilling at a steady rate up to a burst
//! (`governor`'s GCRA). A request either bucket cannot pay waits: a GraphQL-shaped 429 with
//! `Retry-After`, while every other caller is served. The cost goes back in the answer's
//! `extensions.cost` so clients can pace themselves.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How fast a caller and an address may spend, in cost units (selected fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    pub subject_per_second: u32,
    pub subject_burst: u32,
    pub address_per_second: u32,
    pub address_burst: u32,
}

impl Default for LimitsConfig {
    /// A portal page costs 20–60; a tenant may load a few pages a second, steadily, and
    /// burst to the largest document the server takes (2,000). An address (many tenants
    /// behind one NAT) gets three times as much.
    fn default() -> Self {
        LimitsConfig {
            subject_per_second: 200,
            subject_burst: 4_000,
            address_per_second: 600,
            address_burst: 12_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} must be more than 0")]
pub struct LimitsError(&'static str);

/// Whether a request may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Not before this long.
    Wait(Duration),
}

/// Checks between sweeps of idle keys (so a flood of new keys cannot grow the maps forever).
const SWEEP_EVERY: u64 = 4_096;

pub struct FairLimits {
    subjects: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
    subject_burst: NonZeroU32,
    address_burst: NonZeroU32,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl std::fmt::Debug for FairLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FairLimits").finish_non_exhaustive()
    }
}

fn positive(value: u32, what: &'static str) -> Result<NonZeroU32, LimitsError> {
    NonZeroU32::new(value).ok_or(LimitsError(what))
}

impl FairLimits {
    pub fn new(config: LimitsConfig) -> Result<FairLimits, LimitsError> {
        let subject_burst = positive(config.subject_burst, "the caller's burst")?;
        let address_burst = positive(config.address_burst, "the address's burst")?;
        let subject = Quota::per_second(positive(config.subject_per_second, "the caller's rate")?)
            .allow_burst(subject_burst);
        let address = Quota::per_second(positive(config.address_per_second, "the address's rate")?)
            .allow_burst(address_burst);
        Ok(FairLimits {
            subjects: RateLimiter::keyed(subject),
            addresses: RateLimiter::keyed(address),
            subject_burst,
            address_burst,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        })
    }

    /// Charges `cost` to the address, then to the caller (when there is one).
    pub fn charge(&self, subject: Option<&str>, address: Option<IpAddr>, cost: u32) -> Verdict {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.subjects.retain_recent();
            self.addresses.retain_recent();
        }
        let cost = NonZeroU32::new(cost).unwrap_or(NonZeroU32::MIN);
        if let Some(address) = address {
            // A cost over the burst can never be paid at once: it pays the whole burst.
            let n = cost.min(self.address_burst);
            if let Ok(Err(not_until)) = self.addresses.check_key_n(&address, n) {
                return Verdict::Wait(not_until.wait_time_from(self.clock.now()));
            }
        }
        if let Some(subject) = subject {
            let n = cost.min(self.subject_burst);
            if let Ok(Err(not_until)) = self.subjects.check_key_n(&subject.to_owned(), n) {
                return Verdict::Wait(not_until.wait_time_from(self.clock.now()));
            }
        }
        Verdict::Go
    }
}

/// What a request's document costs: the fields it selects once its fragments are expanded, at
/// least 1. The document is parsed here once and kept in the request, so the schema does not
/// parse it again (its extensions still see it). One that does not parse costs 1 (it is refused
/// before anything runs).
pub fn cost_of(request: &mut async_graphql::Request) -> u32 {
    request
        .parsed_query()
        .ok()
        .and_then(|document| crate::query_shape::expanded_selections(document).ok())
        .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX).max(1))
}
