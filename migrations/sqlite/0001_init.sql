-- Periscope schema, SQLite. Timestamps are BIGINT milliseconds since the
-- epoch. Event ids are 16-byte blobs (PERFORMANCE.md: a small id index).

CREATE TABLE projects (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    rate_limit_per_minute INTEGER NOT NULL DEFAULT 0,   -- 0: unlimited
    active_script_version INTEGER                         -- NULL: default rules
);

CREATE TABLE project_keys (
    public_key  TEXT    PRIMARY KEY,                 -- 32 hex
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT                               -- NULL: active
);
CREATE INDEX project_keys_project ON project_keys(project_id);

CREATE TABLE issues (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    hash        TEXT    NOT NULL,                    -- 32 hex MD5 of the grouping components
    title       TEXT    NOT NULL,
    culprit     TEXT    NOT NULL DEFAULT '',
    level       TEXT    NOT NULL DEFAULT 'error',
    status      TEXT    NOT NULL DEFAULT 'unresolved', -- unresolved | resolved | ignored
    first_seen  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    times_seen  BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (project_id, hash)
);
CREATE INDEX issues_project_last_seen ON issues(project_id, last_seen);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    event_id    BLOB    NOT NULL,                    -- 16 bytes
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    timestamp   BIGINT  NOT NULL,                    -- the event's own time
    received_at BIGINT  NOT NULL,
    level       TEXT    NOT NULL DEFAULT 'error',
    environment TEXT,
    release     TEXT,
    title       TEXT    NOT NULL DEFAULT '',
    payload     BLOB    NOT NULL,                    -- normalized event JSON, zstd level 1
    UNIQUE (project_id, event_id)
);
CREATE INDEX events_issue ON events(issue_id, id);
CREATE INDEX events_received ON events(received_at);

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,                    -- new | regression
    event_id    BLOB,                                -- the event that raised it
    created_at  BIGINT  NOT NULL
);
CREATE INDEX alerts_project ON alerts(project_id, id);

CREATE TABLE destinations (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    type        TEXT    NOT NULL,  -- internal_logger | generic_webhook | slack_webhook | discord_webhook | teams_webhook | email
    name        TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    config      TEXT    NOT NULL DEFAULT '{}',       -- JSON: webhook_url, webhook_headers, secret, smtp_url, username, password, from, to
    created_at  BIGINT  NOT NULL
);
CREATE INDEX destinations_project ON destinations(project_id);

-- The outbox: one row per alert and enabled destination, written in the
-- same transaction as the alert.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    destination_id  INTEGER NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending | sending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    locked_until    BIGINT,                           -- a node is sending it until then
    last_status     INTEGER,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (alert_id, destination_id)
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);

CREATE TABLE delivery_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempted_at BIGINT  NOT NULL,
    status_code  INTEGER,                             -- HTTP/SMTP code, NULL when none
    error        TEXT,
    duration_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id);

CREATE TABLE scripts (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (project_id, version)
);
