-- Issue 19: an issue owns one or more grouping hashes. The writer looks an
-- event's hash up here (not in issues.hash, which stays the hash the issue
-- was created with: its primary hash). Merging moves hashes between issues,
-- unmerging splits one out, a grouping transition attaches a new hash to the
-- issue its previous hash belongs to.
CREATE TABLE issue_hashes (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    hash        TEXT    NOT NULL,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (project_id, hash)
) WITHOUT ROWID;
CREATE INDEX issue_hashes_issue ON issue_hashes(issue_id);
INSERT INTO issue_hashes (project_id, hash, issue_id, created_at)
    SELECT project_id, hash, id, first_seen FROM issues;

-- The hash each event was grouped by, so that unmerging a hash takes its
-- events along. NULL (events stored before this migration): the primary
-- hash of the issue they were stored under; a merge or unmerge fills it in
-- before moving anything.
ALTER TABLE events ADD COLUMN hash TEXT;
