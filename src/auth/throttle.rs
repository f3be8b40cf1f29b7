//! Login throttling per account and per client address (GCRA via `governor`).
//!
//! An account's budget is kept per client address, so a guesser at one address runs out without
//! locking the owner out at another; a ten-times larger budget per account alone still bounds
//! guessing spread over many addresses. Each budget refills steadily, so a stopped client waits
//! longer the more it tries (the answer's `Retry-After`).
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
    account_at_address: Arc<DefaultKeyedRateLimiter<(String, Option<IpAddr>)>>,
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
        let across_addresses = Budget {
            burst: limits.per_account.burst.saturating_mul(10),
            per_minute: limits.per_account.per_minute.saturating_mul(10),
        };
        LoginThrottle {
            account_at_address: Arc::new(DefaultKeyedRateLimiter::keyed(quota(limits.per_account))),
            accounts: Arc::new(DefaultKeyedRateLimiter::keyed(quota(across_addresses))),
            addresses: Arc::new(DefaultKeyedRateLimiter::keyed(quota(limits.per_ip))),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt from the budgets; `Err(wait)` when one is spent.
    pub fn attempt(&self, account: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let wait = |nu: governor::NotUntil<_>| nu.wait_time_from(self.clock.now());
        self.account_at_address.check_key(&(account.to_owned(), address)).map_err(wait)?;
        if let Some(ip) = address {
            self.addresses.check_key(&ip).map_err(wait)?;
        }
        self.accounts.check_key(&account.to_owned()).map_err(wait)?;
        Ok(())
    }

    /// Forgets keys whose budgets are full again, so memory tracks recent attempts only.
    pub fn prune(&self) {
        self.account_at_address.retain_recent();
        self.accounts.retain_recent();
        self.addresses.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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

    #[test]
    fn a_guesser_at_one_address_does_not_lock_the_owner_out_at_another() {
        let throttle = LoginThrottle::new(LoginLimits {
            per_account: Budget { burst: 3, per_minute: 1 },
            per_ip: Budget { burst: 100, per_minute: 100 },
        });
        let attacker = Some("203.0.113.9".parse().unwrap());
        let owner = Some("198.51.100.7".parse().unwrap());
        for _ in 0..3 {
            assert!(throttle.attempt("13800000001", attacker).is_ok());
        }
        assert!(throttle.attempt("13800000001", attacker).is_err());
        assert!(throttle.attempt("13800000001", owner).is_ok());
        // Many addresses together still meet the account's overall budget (ten times one's).
        let spent = (0..40u8)
            .map(|i| throttle.attempt("13800000001", Some(std::net::IpAddr::from([10, 0, 0, i]))))
            .filter(Result::is_err)
            .count();
        assert!(spent > 0);
    }
}
