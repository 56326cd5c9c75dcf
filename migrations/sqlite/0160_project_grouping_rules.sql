-- A project's grouping rules in Sentry's syntax (its "Fingerprint Rules"
-- and "Stack Trace Rules" settings), which the default grouping applies.
-- No row: Sentry's built-in rules alone.
CREATE TABLE project_grouping_rules (
    project_id        INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    fingerprint_rules TEXT    NOT NULL,
    stacktrace_rules  TEXT    NOT NULL,
    updated_at        BIGINT  NOT NULL
);
