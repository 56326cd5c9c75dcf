-- Issue 19: a search over 100,000 issues answers within 100 ms.

-- Sorts: the default list (status filter, newest first) and sort=count walk
-- an index in the requested order (id breaks ties: ORDER BY key, id) instead
-- of sorting every matching issue.
DROP INDEX issues_project_last_seen;
CREATE INDEX issues_project_last_seen ON issues(project_id, last_seen, id);
CREATE INDEX issues_project_status_last_seen ON issues(project_id, status, last_seen, id);
CREATE INDEX issues_project_status_times_seen ON issues(project_id, status, times_seen, id);
CREATE INDEX issues_project_times_seen ON issues(project_id, times_seen, id);

-- Tag terms (release:, environment:, tag:value): key and value depend on
-- each other (a release value is only ever a release), so the planner's
-- product of their separate frequencies misjudged how many issues a term
-- matches (release:1.7.0 estimated 844 of 5,000: it walked the whole
-- last_seen index; environment:production 7,650 of 60,000: it joined and
-- sorted every issue). Statistics on the pair give the real count.
CREATE STATISTICS issue_tags_key_value_stats (mcv, dependencies) ON key, value FROM issue_tags;

-- Free text (ILIKE '%text%' on title, culprit, message): trigram indexes
-- (pg_trgm, in Debian's postgresql package; trusted, so the database's
-- owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX issues_title_trgm ON issues USING gin (title gin_trgm_ops);
CREATE INDEX issues_culprit_trgm ON issues USING gin (culprit gin_trgm_ops);
CREATE INDEX issues_message_trgm ON issues USING gin (message gin_trgm_ops);
