-- Issue 19: a search over 100,000 issues answers within 100 ms.

-- Sorts: the default list (status filter, newest first) and sort=count walk
-- an index in the requested order instead of sorting every matching issue.
CREATE INDEX issues_project_status_last_seen ON issues(project_id, status, last_seen);
CREATE INDEX issues_project_status_times_seen ON issues(project_id, status, times_seen);
CREATE INDEX issues_project_times_seen ON issues(project_id, times_seen);

-- Free text (ILIKE '%text%' on title, culprit, message): trigram indexes
-- (pg_trgm, in Debian's postgresql package; trusted, so the database's
-- owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX issues_title_trgm ON issues USING gin (title gin_trgm_ops);
CREATE INDEX issues_culprit_trgm ON issues USING gin (culprit gin_trgm_ops);
CREATE INDEX issues_message_trgm ON issues USING gin (message gin_trgm_ops);
