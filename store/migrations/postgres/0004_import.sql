-- Facts imported from the landlord's rental system (issue 15). `import_versions` keeps the
-- version of every source record stored, so a re-import changes nothing and an older record
-- never overwrites a newer one.

CREATE TABLE import_versions (
    kind TEXT NOT NULL,                    -- tenant, tenancy, debt, fee, payment, property, …
    source_id TEXT NOT NULL,               -- the source system's id (categories, options: property/id)
    version BIGINT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, source_id)
);

-- S2 per property, beside the landlord's and the tenant's switches.
ALTER TABLE properties ADD COLUMN ordering_enabled BOOLEAN NOT NULL DEFAULT TRUE;

-- The tenancy (contract) a lease came from, when it was imported: a newer version of the
-- contract replaces its leases; one that ends removes them.
ALTER TABLE leases ADD COLUMN tenancy_id TEXT;
CREATE INDEX leases_by_tenancy ON leases (tenancy_id);

-- Fees the rental system bills on add-ons it knows (S5). Paid is the sum of the imported
-- payments, kept here so a decision reads one row.
CREATE TABLE imported_fees (
    source_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    rental_object_id TEXT NOT NULL REFERENCES rental_objects (id),
    option_id TEXT NOT NULL,
    lock_keys TEXT NOT NULL,               -- JSON array of the keys the option occupies
    amount BIGINT NOT NULL CHECK (amount >= 0),
    paid BIGINT NOT NULL DEFAULT 0 CHECK (paid >= 0),
    currency TEXT NOT NULL,
    booked_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX imported_fees_by_object ON imported_fees (rental_object_id, tenant_id);

CREATE TABLE imported_payments (
    source_id TEXT PRIMARY KEY,
    fee_id TEXT NOT NULL REFERENCES imported_fees (source_id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    paid_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX imported_payments_by_fee ON imported_payments (fee_id);
