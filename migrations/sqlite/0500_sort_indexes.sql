-- Issue 22: a list of 100 issues answers within 50 ms on a database of
-- 1,000,000 events. sort=first_seen and sort=users sorted every issue of
-- the project (65 ms median over 10,000 issues); like last_seen and count
-- (0310) they now walk an index in the requested order, with and without
-- the status filter (an SQLite index ends with the rowid, id).
CREATE INDEX issues_project_status_first_seen ON issues(project_id, status, first_seen);
CREATE INDEX issues_project_first_seen ON issues(project_id, first_seen);
CREATE INDEX issues_project_status_users ON issues(project_id, status, user_count);
