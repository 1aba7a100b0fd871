-- tillval on PostgreSQL: the same tables as on SQLite, in PostgreSQL's types. Money is BIGINT
-- minor units with a currency column; time is TIMESTAMPTZ (UTC); ids are the model's checked
-- strings. Races between nodes are settled by the same constraints.

CREATE TABLE landlord_settings (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    ordering_enabled BOOLEAN NOT NULL DEFAULT TRUE       -- S2: the add-on product is on
);
INSERT INTO landlord_settings (id, ordering_enabled) VALUES (1, TRUE);

CREATE TABLE properties (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE rental_objects (
    id TEXT PRIMARY KEY,
    property_id TEXT NOT NULL REFERENCES properties (id),
    address TEXT NOT NULL,
    building_year INTEGER NOT NULL,
    rooms BIGINT NOT NULL,
    area_sqm BIGINT NOT NULL
);

CREATE TABLE spaces (
    rental_object_id TEXT NOT NULL REFERENCES rental_objects (id) ON DELETE CASCADE,
    space_id TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (rental_object_id, space_id)
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    ordering_enabled BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE leases (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    rental_object_id TEXT NOT NULL REFERENCES rental_objects (id),
    PRIMARY KEY (tenant_id, rental_object_id)
);
CREATE INDEX leases_by_object ON leases (rental_object_id);

CREATE TABLE catalogues (
    property_id TEXT PRIMARY KEY REFERENCES properties (id),
    currency TEXT NOT NULL
);

CREATE TABLE categories (
    property_id TEXT NOT NULL REFERENCES catalogues (property_id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (property_id, id)
);

CREATE TABLE options (
    property_id TEXT NOT NULL,
    id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    space_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    monthly_price BIGINT NOT NULL CHECK (monthly_price >= 0),
    one_time_fee BIGINT NOT NULL CHECK (one_time_fee >= 0),
    currency TEXT NOT NULL,
    unit_kind TEXT NOT NULL CHECK (unit_kind IN ('piece', 'single')),
    unit_max BIGINT NOT NULL CHECK (unit_max BETWEEN 1 AND 99),
    position BIGINT NOT NULL,
    PRIMARY KEY (property_id, id),
    FOREIGN KEY (property_id, category_id) REFERENCES categories (property_id, id)
);

CREATE TABLE option_pictures (
    property_id TEXT NOT NULL,
    option_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    thumbnail TEXT NOT NULL,
    large TEXT NOT NULL,
    alt TEXT NOT NULL,
    PRIMARY KEY (property_id, option_id, seq),
    FOREIGN KEY (property_id, option_id) REFERENCES options (property_id, id) ON DELETE CASCADE
);

CREATE TABLE carts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    rental_object_id TEXT NOT NULL REFERENCES rental_objects (id),
    contact_phone TEXT,
    preferred_date DATE,
    message TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, rental_object_id)
);

CREATE TABLE cart_lines (
    tenant_id TEXT NOT NULL,
    rental_object_id TEXT NOT NULL,
    option_id TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    seq BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, rental_object_id, option_id),
    FOREIGN KEY (tenant_id, rental_object_id) REFERENCES carts (tenant_id, rental_object_id) ON DELETE CASCADE
);

-- S10 as a constraint: one cart line per lock key, whatever two requests do at once.
CREATE TABLE cart_line_keys (
    tenant_id TEXT NOT NULL,
    rental_object_id TEXT NOT NULL,
    lock_key TEXT NOT NULL,
    option_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, rental_object_id, lock_key),
    FOREIGN KEY (tenant_id, rental_object_id, option_id)
        REFERENCES cart_lines (tenant_id, rental_object_id, option_id) ON DELETE CASCADE
);

CREATE TABLE terms (
    version BIGINT PRIMARY KEY CHECK (version >= 1),
    text_sv TEXT NOT NULL,
    text_en TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);

-- Case numbers come from a sequence: no row that every node's submit must lock. A rolled-back
-- submit leaves a gap; numbers stay unique and rising.
CREATE SEQUENCE case_number_seq;

CREATE TABLE cases (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    rental_object_id TEXT NOT NULL REFERENCES rental_objects (id),
    status TEXT NOT NULL CHECK (status IN
        ('SUBMITTED', 'UNDER_REVIEW', 'APPROVED', 'SCHEDULED', 'INSTALLED', 'REJECTED', 'CANCELLED')),
    terms_version BIGINT NOT NULL REFERENCES terms (version),
    contact_phone TEXT,
    preferred_date DATE,
    message TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX cases_by_tenant ON cases (tenant_id, id DESC);
CREATE INDEX cases_by_object ON cases (rental_object_id, status);

CREATE TABLE case_lines (
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    option_id TEXT NOT NULL,
    option_name TEXT NOT NULL,
    category_id TEXT NOT NULL,
    space_id TEXT NOT NULL,
    lock_keys TEXT NOT NULL,                -- JSON array of the keys the line occupied
    quantity BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    monthly_price BIGINT NOT NULL CHECK (monthly_price >= 0),
    one_time_fee BIGINT NOT NULL CHECK (one_time_fee >= 0),
    currency TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE case_history (
    case_id BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- S4 as a constraint: one open order per rental object and lock key, on one node or many.
CREATE TABLE order_locks (
    rental_object_id TEXT NOT NULL,
    lock_key TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    PRIMARY KEY (rental_object_id, lock_key)
);
CREATE INDEX order_locks_by_case ON order_locks (case_id);

CREATE TABLE ledger_debts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ledger_fees (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    rental_object_id TEXT NOT NULL REFERENCES rental_objects (id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    option_id TEXT NOT NULL,
    lock_keys TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    paid BIGINT NOT NULL DEFAULT 0 CHECK (paid >= 0 AND paid <= amount),
    currency TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ledger_fees_by_object ON ledger_fees (rental_object_id, tenant_id);

CREATE TABLE ledger_payments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fee_id BIGINT NOT NULL REFERENCES ledger_fees (id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    at TIMESTAMPTZ NOT NULL
);

-- Published rule sets (every version kept, with who and when) and the decision log.
CREATE TABLE rule_sets (
    version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    manifest_version TEXT NOT NULL,
    source TEXT NOT NULL,                 -- JSON: manifest, scripts, messages, tests
    published_by TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE active_rule_set (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL REFERENCES rule_sets (version),
    activated_by TEXT NOT NULL,
    activated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    rental_object_id TEXT NOT NULL,
    action TEXT NOT NULL,                 -- cart_add, checkout_submit
    option_id TEXT,
    rule_set TEXT NOT NULL,               -- name and version
    reason_codes TEXT NOT NULL,           -- JSON array
    figures TEXT NOT NULL,                -- JSON: the facts' key figures
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX decisions_by_tenant ON decisions (tenant_id, id DESC);
