-- Outgoing publish events. An endpoint subscribes a URL to event types (empty: all) and signs
-- with its own sealed secret. A message is one event, written in the transaction that ends
-- the job (or settles the cache step); a delivery is one message on its way to one endpoint,
-- claimed by one process at a time; every attempt is logged.
CREATE TABLE webhook_endpoints (
    id              BLOB PRIMARY KEY NOT NULL,
    project_id      BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT,
    secret          TEXT NOT NULL,
    last_success_at TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_project ON webhook_endpoints (project_id);

CREATE TABLE webhook_messages (
    id         BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              BLOB PRIMARY KEY NOT NULL,
    message_id      BLOB NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    endpoint_id     BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT,
    claimed_until   TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    id              BLOB PRIMARY KEY NOT NULL,
    delivery_id     BLOB NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id     BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempt         INTEGER NOT NULL,
    status_code     INTEGER,
    latency_ms      INTEGER NOT NULL,
    error           TEXT,
    attempted_at    TEXT NOT NULL,
    next_attempt_at TEXT
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, attempted_at);
