//! Following the other nodes: what they change in a shared database (a catalogue, the active
//! rule set, a case's status) reaches this node's catalogue cache, rule set and case
//! subscriptions. Only a store that several processes write (PostgreSQL) has changes to follow;
//! on SQLite this is never started.

use tokio::sync::broadcast::error::RecvError;

use crate::authoring::accepted;
use crate::service::{CaseEvent, Services};
use crate::store::{Store, StoreChange};
use tillval_engine::rules::SandboxLimits;
use tillval_engine::rules::check::check;

impl<S: Store> Services<S> {
    /// Starts a task that applies the store's changes for as long as the runtime runs. Does
    /// nothing without a store change feed or outside a tokio runtime.
    pub(crate) fn follow_changes(&self) {
        let Some(mut changes) = self.store.changes() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no runtime: other nodes' changes will not be followed");
            return;
        };
        let services = self.clone();
        runtime.spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => services.apply(change).await,
                    Err(RecvError::Lagged(skipped)) => {
                        tracing::warn!(skipped, "changes came faster than they were applied");
                        services.apply(StoreChange::Missed).await;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    async fn apply(&self, change: StoreChange) {
        match change {
            StoreChange::Catalogue { property } => {
                tracing::debug!(%property, "catalogue changed on another node");
                self.catalogues().invalidate(&property).await;
            }
            StoreChange::RuleSet => self.reload_rules().await,
            StoreChange::CaseStatus {
                tenant,
                number,
                status,
                at,
            } => self.publish(CaseEvent {
                tenant,
                number,
                status,
                at,
            }),
            StoreChange::Missed => {
                self.catalogues().invalidate_all();
                self.clear_view_memo();
                self.reload_rules().await;
            }
        }
    }

    /// Makes the store's active rule set the one in force here. A set that fails its checks
    /// here (it passed them where it was published) is logged and the running one stays.
    async fn reload_rules(&self) {
        match self.store.active_rule_set().await {
            Ok(Some((version, source))) => {
                match accepted(check(&source, SandboxLimits::default(), 0)) {
                    Ok(rules) => {
                        if rules.fingerprint() != self.rules().fingerprint() {
                            tracing::info!(version, "rule set activated on another node");
                            self.set_rules(rules);
                        }
                    }
                    Err(error) => {
                        tracing::error!(version, %error, "the active rule set is refused here")
                    }
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "the active rule set could not be read"),
        }
    }
}
