//! How a rule set's functions are called: per well-known function, the calls, the time they
//! took, the calls that failed and those stopped by a sandbox bound (budget hits). Counted with
//! relaxed atomics (two clock reads and four adds per call), read by whoever wants to show
//! them: the server's `/metrics` labels them with the rule set's name and version.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::RuleError;

/// The functions counted, as `sandbox::call` names them; any other goes under `other`.
const FUNCTIONS: [&str; 7] = [
    "order_blocks",
    "key_blocks",
    "option_blocks",
    "lock_keys",
    super::BATCH_KEY_BLOCKS,
    super::BATCH_OPTION_BLOCKS,
    "other",
];

#[derive(Debug, Default)]
struct Counts {
    calls: AtomicU64,
    errors: AtomicU64,
    budget_hits: AtomicU64,
    nanos: AtomicU64,
}

/// The counts of one rule set since it was compiled.
#[derive(Debug, Default)]
pub struct RuleStats {
    counts: [Counts; FUNCTIONS.len()],
}

/// One function's counts, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionStats {
    pub function: &'static str,
    pub calls: u64,
    pub errors: u64,
    /// Calls a sandbox bound stopped (operations, the wall clock, a size, the view's budget).
    pub budget_hits: u64,
    pub seconds: f64,
}

impl RuleStats {
    pub(crate) fn record(&self, function: &str, took: Duration, result: Result<(), &RuleError>) {
        let slot = FUNCTIONS
            .iter()
            .position(|name| *name == function)
            .unwrap_or(FUNCTIONS.len() - 1);
        let Some(counts) = self.counts.get(slot) else {
            return;
        };
        counts.calls.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        counts.nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Err(error) = result {
            counts.errors.fetch_add(1, Ordering::Relaxed);
            if matches!(error, RuleError::LimitExceeded { .. }) {
                counts.budget_hits.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Every function called at least once, with its counts.
    pub fn read(&self) -> Vec<FunctionStats> {
        FUNCTIONS
            .iter()
            .zip(&self.counts)
            .map(|(function, counts)| FunctionStats {
                function,
                calls: counts.calls.load(Ordering::Relaxed),
                errors: counts.errors.load(Ordering::Relaxed),
                budget_hits: counts.budget_hits.load(Ordering::Relaxed),
                seconds: Duration::from_nanos(counts.nanos.load(Ordering::Relaxed)).as_secs_f64(),
            })
            .filter(|stats| stats.calls > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::SandboxLimit;

    #[test]
    fn calls_errors_and_budget_hits_are_counted_per_function() {
        let stats = RuleStats::default();
        let limit = RuleError::LimitExceeded {
            function: "key_blocks",
            limit: SandboxLimit::Operations,
            line: None,
        };
        let script = RuleError::Script {
            function: "key_blocks",
            message: "boom".into(),
            line: None,
            column: None,
        };
        let ms = Duration::from_millis(1);
        stats.record("key_blocks", ms, Ok(()));
        stats.record("key_blocks", ms, Err(&limit));
        stats.record("key_blocks", ms, Err(&script));
        stats.record("lock_keys", ms, Ok(()));
        stats.record("a_helper_of_the_landlord", ms, Ok(()));
        let read = stats.read();
        let of = |name: &str| read.iter().find(|s| s.function == name).cloned();
        let key_blocks = of("key_blocks").unwrap_or_else(|| panic!("{read:?}"));
        assert_eq!(
            (key_blocks.calls, key_blocks.errors, key_blocks.budget_hits),
            (3, 2, 1)
        );
        assert!((key_blocks.seconds - 0.003).abs() < 1e-9);
        assert_eq!(of("lock_keys").map(|s| s.calls), Some(1));
        assert_eq!(of("other").map(|s| s.calls), Some(1));
        assert_eq!(
            of("order_blocks"),
            None,
            "a function never called is not listed"
        );
    }
}
