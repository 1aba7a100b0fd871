-- The transactional outbox (issue 15): every event another system must learn of is written in
-- the transaction of the change, with one delivery row per endpoint enabled then; a dispatcher
-- leases due deliveries, posts them as Standard Webhooks, and records the outcome.

CREATE TABLE webhook_endpoints (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,                 -- whsec_…, never read back by the API
    description TEXT NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE outbox_events (
    id BIGSERIAL PRIMARY KEY,
    webhook_id TEXT NOT NULL UNIQUE,      -- the `webhook-id` every attempt carries
    event_type TEXT NOT NULL,             -- case.created, case.moved, case.cancelled, case.installed, fee.booked
    ordering_key TEXT NOT NULL,           -- the case number: delivered in order per case
    payload TEXT NOT NULL,                -- the JSON body
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    event_id BIGINT NOT NULL REFERENCES outbox_events (id),
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    ordering_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    leased_by TEXT,
    leased_until TIMESTAMPTZ,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, ordering_key, event_id);
