-- Tag values per issue, counted at ingest (one upsert per distinct
-- issue/key/value of a writer batch, not one row per event): what the issue
-- detail's tags summary reads. Counts stay when retention deletes events,
-- like the issue's own times_seen.
CREATE TABLE issue_tags (
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    times_seen  BIGINT  NOT NULL DEFAULT 0,
    last_seen   BIGINT  NOT NULL,
    PRIMARY KEY (issue_id, key, value)
);
