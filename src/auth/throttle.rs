//! Login throttling per account and per client address (GCRA via `governor`).
//!
//! Limits live in each replica's memory: with N replicas an attacker gets at most N times the
//! budget, which still bounds online guessing; a shared store is not worth a new service here.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// A budget of attempts: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub burst: u32,
    pub per_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_account: Budget,
    /// Generous: a branch office of 200 staff behind one NAT all log in at 8:30.
    pub per_ip: Budget,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { per_account: Budget { burst: 10, per_minute: 2 }, per_ip: Budget { burst: 600, per_minute: 600 } }
    }
}

#[derive(Clone)]
pub struct LoginThrottle {
    accounts: Arc<DefaultKeyedRateLimiter<String>>,
    addresses: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

fn quota(budget: Budget) -> Quota {
    let burst = NonZeroU32::new(budget.burst).unwrap_or(NonZeroU32::MIN);
    let per_minute = budget.per_minute.max(1);
    let period = Duration::from_micros(60_000_000 / u64::from(per_minute)).max(Duration::from_micros(1));
    Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> LoginThrottle {
        LoginThrottle {
            accounts: Arc::new(DefaultKeyedRateLimiter::keyed(quota(limits.per_account))),
            addresses: Arc::new(DefaultKeyedRateLimiter::keyed(quota(limits.per_ip))),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt from both budgets; `Err(wait)` when either is spent.
    pub fn attempt(&self, account: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        if let Some(ip) = address {
            self.addresses.check_key(&ip).map_err(|nu| nu.wait_time_from(self.clock.now()))?;
        }
        self.accounts.check_key(&account.to_owned()).map_err(|nu| nu.wait_time_from(self.clock.now()))?;
        Ok(())
    }

    /// Forgets keys whose budgets are full again, so memory tracks recent attempts only.
    pub fn prune(&self) {
        self.accounts.retain_recent();
        self.addresses.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_stopped_after_its_burst_and_others_are_not() {
        let throttle = LoginThrottle::new(LoginLimits {
            per_account: Budget { burst: 3, per_minute: 1 },
            per_ip: Budget { burst: 100, per_minute: 100 },
        });
        for _ in 0..3 {
            assert!(throttle.attempt("13800000001", None).is_ok());
        }
        let wait = throttle.attempt("13800000001", None);
        assert!(matches!(wait, Err(d) if d > Duration::from_secs(30)), "{wait:?}");
        assert!(throttle.attempt("13800000002", None).is_ok());
    }
}
