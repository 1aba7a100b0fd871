//! The dispatcher: lease what is due, post it signed, record the outcome; again and again until
//! told to stop. Any number of nodes run one each against the same database: a lease is held by
//! one node at a time, and a node that dies lets another take over when its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tillval_services::events::LeasedDelivery;
use tillval_services::store::{Store, StoreError};
use tokio::sync::watch;

use crate::signature::sign;

/// How the dispatcher paces itself. The defaults suit production; tests shorten the waits.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// This node's name in its leases (with a counter per round).
    pub node: String,
    /// How long a lease lasts: longer than a delivery can take.
    pub lease: Duration,
    /// How long to wait when nothing is due.
    pub poll: Duration,
    /// Deliveries leased per round, sent concurrently.
    pub batch: u32,
    /// Attempts before a delivery is dead-lettered.
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further one, up to `backoff_max`,
    /// then spread by ±20 % jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long one POST may take.
    pub timeout: Duration,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            node: format!("node-{}", std::process::id()),
            lease: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            batch: 32,
            max_attempts: 10,
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3_600),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// When to try again after `attempts` failed attempts, or `None` to give up.
pub fn retry_at(
    config: &DispatcherConfig,
    attempts: u32,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if attempts >= config.max_attempts {
        return None;
    }
    let doubled = config
        .backoff_base
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    let wait = doubled
        .min(config.backoff_max)
        .mul_f64(0.8 + fastrand::f64() * 0.4);
    Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
}

/// Delivers the outbox of `store`.
#[derive(Debug, Clone)]
pub struct Dispatcher<S: Store> {
    store: S,
    client: reqwest::Client,
    config: Arc<DispatcherConfig>,
    round: Arc<std::sync::atomic::AtomicU64>,
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
    pub dead: usize,
}

impl<S: Store> Dispatcher<S> {
    pub fn new(store: S, config: DispatcherConfig) -> Result<Self, DispatchError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tillval-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DispatchError::Client(e.to_string()))?;
        Ok(Dispatcher {
            store,
            client,
            config: Arc::new(config),
            round: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// Rounds until `stop` turns true; a store error is logged and waited out, never the end.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(node = %self.config.node, "webhook dispatcher started");
        loop {
            if *stop.borrow() {
                break;
            }
            let wait = match self.round().await {
                Ok(round) if round.delivered + round.failed + round.dead > 0 => Duration::ZERO,
                Ok(_) => self.config.poll,
                Err(error) => {
                    tracing::warn!(%error, "webhook dispatcher round failed");
                    self.config.poll
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    // Told to stop, or nobody left to tell it: either way, stop.
                    changed = stop.changed() => if changed.is_err() { break },
                }
            }
        }
        tracing::info!(node = %self.config.node, "webhook dispatcher stopped");
    }

    /// Leases what is due now and delivers it.
    pub async fn round(&self) -> Result<Round, DispatchError> {
        let now = Utc::now();
        let until =
            now + chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX);
        let n = self
            .round
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let lease = format!("{}#{n}", self.config.node);
        let leased = self
            .store
            .deliveries_lease(&lease, now, until, self.config.batch)
            .await?;
        let outcomes = futures_util::future::join_all(leased.iter().map(|d| self.deliver(d))).await;
        let mut round = Round::default();
        for (delivery, outcome) in leased.iter().zip(outcomes) {
            match outcome {
                Ok(()) => {
                    self.store.delivery_succeeded(delivery, Utc::now()).await?;
                    round.delivered += 1;
                }
                Err(error) => {
                    let retry = retry_at(&self.config, delivery.attempts + 1, Utc::now());
                    tracing::info!(
                        webhook_id = %delivery.webhook_id, endpoint = delivery.endpoint,
                        attempts = delivery.attempts + 1, %error, dead = retry.is_none(),
                        "webhook delivery failed"
                    );
                    self.store.delivery_failed(delivery, &error, retry).await?;
                    if retry.is_some() {
                        round.failed += 1;
                    } else {
                        round.dead += 1;
                    }
                }
            }
        }
        Ok(round)
    }

    /// One POST; `Err` with why for anything but a 2xx answer.
    async fn deliver(&self, delivery: &LeasedDelivery) -> Result<(), String> {
        let body = delivery.payload.as_bytes().to_vec();
        let headers = sign(
            &delivery.secret,
            &delivery.webhook_id,
            Utc::now().timestamp(),
            &body,
        )
        .map_err(|e| format!("the endpoint's secret: {e}"))?;
        let response = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("webhook-id", headers.id)
            .header("webhook-timestamp", headers.timestamp)
            .header("webhook-signature", headers.signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered {status}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_within_its_jitter_up_to_the_cap_and_then_gives_up() {
        let config = DispatcherConfig {
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(60),
            max_attempts: 5,
            ..DispatcherConfig::default()
        };
        let now = Utc::now();
        for (attempts, nominal) in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 60.0)] {
            for _ in 0..50 {
                let Some(at) = retry_at(&config, attempts, now) else {
                    panic!("attempt {attempts} is retried");
                };
                let wait = (at - now).as_seconds_f64();
                assert!(
                    (nominal * 0.8..=nominal * 1.2).contains(&wait),
                    "{attempts}: {wait}"
                );
            }
        }
        assert_eq!(retry_at(&config, 5, now), None);
        assert_eq!(retry_at(&config, 50, now), None);
    }
}
