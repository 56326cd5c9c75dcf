-- Issue 22: a list of 100 issues answers within 50 ms on a database of
-- 1,000,000 events (sort=users got its indexes in 0330). sort=first_seen sorted every issue of
-- the project (65 ms median over 10,000 issues); like last_seen and count
-- (0310) it now walks an index in the requested order, with and without
-- the status filter (an SQLite index ends with the rowid, id).
CREATE INDEX issues_project_status_first_seen ON issues(project_id, status, first_seen);
CREATE INDEX issues_project_first_seen ON issues(project_id, first_seen);
