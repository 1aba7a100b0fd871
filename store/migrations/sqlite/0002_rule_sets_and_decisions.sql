-- Published rule sets (every version kept, with who and when) and the decision log.

CREATE TABLE rule_sets (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    manifest_version TEXT NOT NULL,
    source TEXT NOT NULL,                 -- JSON: manifest, scripts, messages, tests
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE active_rule_set (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL REFERENCES rule_sets (version),
    activated_by TEXT NOT NULL,
    activated_at TEXT NOT NULL
);

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    rental_object_id TEXT NOT NULL,
    action TEXT NOT NULL,                 -- cart_add, checkout_submit
    option_id TEXT,
    rule_set TEXT NOT NULL,               -- name and version
    reason_codes TEXT NOT NULL,           -- JSON array
    figures TEXT NOT NULL,                -- JSON: the facts' key figures
    at TEXT NOT NULL
);
CREATE INDEX decisions_by_tenant ON decisions (tenant_id, id DESC);
