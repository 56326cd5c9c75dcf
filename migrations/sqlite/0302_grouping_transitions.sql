-- Issue 19: grouping transitions. When a project's grouping changes (its
-- script, its Sentry-syntax rules, or the server's default grouping
-- config), for grouping_transition_days (0: never) every event is also
-- grouped the previous way; a new hash whose previous hash belongs to an
-- issue joins that issue (issue_hashes) instead of making a new one.
ALTER TABLE projects ADD COLUMN grouping_transition_days INTEGER NOT NULL DEFAULT 7;
-- The default grouping config (GROUPING_CONFIG_ID) the project's issues
-- were made with; NULL: the one the server runs (set at start).
ALTER TABLE projects ADD COLUMN grouping_config TEXT;
UPDATE projects SET grouping_config = 'newstyle:2026-01-20';

-- The grouping a project had before its last change, until expires_at.
CREATE TABLE grouping_transitions (
    project_id             INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    prev_script_version    INTEGER NOT NULL DEFAULT 0,  -- 0: the default rules
    prev_fingerprint_rules TEXT,                        -- NULL: none
    prev_stacktrace_rules  TEXT,
    prev_config            TEXT    NOT NULL,
    started_at             BIGINT  NOT NULL,
    expires_at             BIGINT  NOT NULL
);
