-- Issue 19: assignment, comments and activity, and what search reads.

-- The user an issue is assigned to (NULL: nobody).
ALTER TABLE issues ADD COLUMN assignee_id BIGINT;
CREATE INDEX issues_project_assignee ON issues(project_id, assignee_id);

-- The text free-text search reads besides title and culprit: the first
-- event's log message or exception value, whole (the title has its first
-- line only).
ALTER TABLE issues ADD COLUMN message TEXT NOT NULL DEFAULT '';

-- What happened to an issue, newest last: comments (text), assignments
-- (data: {"assignee_id"}), merges and unmerges (data: the hashes and issues).
-- user_id: who did it (NULL: the admin key).
CREATE TABLE issue_activity (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id    INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,  -- comment | assigned | merged | unmerged
    user_id     BIGINT,
    text        TEXT    NOT NULL DEFAULT '',
    data        TEXT    NOT NULL DEFAULT '{}',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX issue_activity_issue ON issue_activity(issue_id, id);

-- Search by tag (tag:value, has:tag, environment:, release:, user.*:)
-- starts from the tag instead of testing every issue of the project.
CREATE INDEX issue_tags_key_value ON issue_tags(key, value);
