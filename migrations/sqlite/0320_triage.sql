-- Issue 19, triage: releases, users affected, snoozes, resolutions in a
-- release, alert rules and the windows frequency rules count in.

-- first_release / last_release: the release of an issue's first and latest
-- event (NULL: none had one); user_count: distinct users (exact up to
-- 10,000, then the HyperLogLog estimate of issue_user_sketches).
ALTER TABLE issues ADD COLUMN first_release TEXT;
ALTER TABLE issues ADD COLUMN last_release TEXT;
ALTER TABLE issues ADD COLUMN user_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX issues_project_users ON issues(project_id, user_count);

-- Releases per project, in the order first seen (id).
CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version     TEXT    NOT NULL,
    first_seen  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    events      BIGINT  NOT NULL DEFAULT 0,
    new_issues  BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (project_id, version)
);

-- The exact set of an issue's users (64-bit hashes of the user key) while
-- user_count is below 10,000; past it the sketch takes over.
CREATE TABLE issue_users (
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    user_hash   BIGINT  NOT NULL,
    PRIMARY KEY (issue_id, user_hash)
) WITHOUT ROWID;

-- HyperLogLog registers (2^14 bytes) of an issue past the exact limit.
CREATE TABLE issue_user_sketches (
    issue_id    INTEGER PRIMARY KEY REFERENCES issues(id) ON DELETE CASCADE,
    registers   BLOB NOT NULL
);

-- An ignored issue's snooze condition (none: ignored for good).
-- kind: count | until | users | rate; base_*: the issue's counts when it
-- was snoozed.
CREATE TABLE issue_snoozes (
    issue_id        INTEGER PRIMARY KEY REFERENCES issues(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    threshold       BIGINT  NOT NULL DEFAULT 0,
    until_ms        BIGINT  NOT NULL DEFAULT 0,
    window_minutes  INTEGER NOT NULL DEFAULT 0,
    base_times_seen BIGINT  NOT NULL DEFAULT 0,
    base_users      BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL
);

-- A resolved issue's release condition (none: any event reopens it).
-- kind version: events of version or later reopen; kind next_release:
-- events of a release later than after_release (the release of the issue's
-- latest event when resolved, else the project's newest; NULL when there
-- was none: any release) reopen.
CREATE TABLE issue_resolutions (
    issue_id      INTEGER PRIMARY KEY REFERENCES issues(id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    version       TEXT,
    after_release TEXT,
    created_at    BIGINT  NOT NULL
);

-- Events and distinct users of an issue per fixed window of window_minutes
-- (window_start: ms, a multiple of the window), for rate snoozes and
-- frequency rules; issue_window_users holds the users counted (at most the
-- largest threshold asked). Old windows are deleted by the writer.
CREATE TABLE issue_windows (
    issue_id       INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    window_minutes INTEGER NOT NULL,
    window_start   BIGINT  NOT NULL,
    events         BIGINT  NOT NULL DEFAULT 0,
    users          BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (issue_id, window_minutes, window_start)
) WITHOUT ROWID;
CREATE INDEX issue_windows_start ON issue_windows(window_start);
CREATE TABLE issue_window_users (
    issue_id       INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    window_minutes INTEGER NOT NULL,
    window_start   BIGINT  NOT NULL,
    user_hash      BIGINT  NOT NULL,
    PRIMARY KEY (issue_id, window_minutes, window_start, user_hash)
) WITHOUT ROWID;
CREATE INDEX issue_window_users_start ON issue_window_users(window_start);

-- A project's alert rules (JSON text, {"rules": [...]}); no row: the
-- default rules (new, regression and escalating to every destination).
CREATE TABLE project_alert_rules (
    project_id  INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    rules       TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- When a rule last fired for an issue (throttle) and in which window
-- (frequency: once per window). The row a statement wins decides, so
-- several nodes fire once.
CREATE TABLE alert_rule_fires (
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    rule          TEXT    NOT NULL,
    issue_id      INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    fired_at      BIGINT  NOT NULL,
    window_start  BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, rule, issue_id)
);

-- Deliveries: rule_match 0 when no alert rule chose the destination (sent
-- only if the project's alert() hook names it); status 'suppressed' when
-- the rules, alert() or format() returning false kept it from being sent.
ALTER TABLE deliveries ADD COLUMN rule_match INTEGER NOT NULL DEFAULT 1;
