-- issue_tags clustered on its primary key (WITHOUT ROWID): one B-tree
-- instead of a rowid table plus the primary key's index. The writer upserts
-- every distinct issue/key/value of a batch; with two B-trees each upsert
-- dirtied a page in both, and a small commit writes every page it dirtied
-- into the WAL (issue 10: the two were ~45 % of the WAL frames per batch at
-- 10,000 issues). Same columns, key and cascade; the rows are copied.
-- Postgres has no clustered tables to switch to and keeps 0060 as it is.
CREATE TABLE issue_tags_new (
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    times_seen  BIGINT  NOT NULL DEFAULT 0,
    last_seen   BIGINT  NOT NULL,
    PRIMARY KEY (issue_id, key, value)
) WITHOUT ROWID;
INSERT INTO issue_tags_new (issue_id, key, value, times_seen, last_seen)
    SELECT issue_id, key, value, times_seen, last_seen FROM issue_tags
    ORDER BY issue_id, key, value;
DROP TABLE issue_tags;
ALTER TABLE issue_tags_new RENAME TO issue_tags;
