//! Sends in flight, one per (tenant, idempotency key), so that a retry waits for the first
//! attempt instead of racing it.

/// Submits in flight on this node, by (tenant, idempotency key). The same key sent twice at
/// once is one order: the second waits for the first and then answers with its case.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    keys: std::sync::Mutex<std::collections::HashMap<InFlightKey, KeyLock>>,
}

type InFlightKey = (tillval_engine::model::TenantId, String);
type KeyLock = std::sync::Arc<tokio::sync::Mutex<()>>;

impl InFlight {
    /// The lock of one key, shared by every submit with it while any holds it.
    pub(crate) fn lock_of(&self, tenant: &tillval_engine::model::TenantId, key: &str) -> KeyLock {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::sync::Arc::clone(keys.entry((tenant.clone(), key.to_owned())).or_default())
    }

    /// Forgets a key no submit holds any more, so the map holds only what is in flight.
    pub(crate) fn release(&self, tenant: &tillval_engine::model::TenantId, key: &str) {
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let map_key = (tenant.clone(), key.to_owned());
        if keys
            .get(&map_key)
            .is_some_and(|lock| std::sync::Arc::strong_count(lock) == 1)
        {
            keys.remove(&map_key);
        }
    }
}
