-- Issue 22: a list of 100 issues answers within 50 ms on a database of
-- 1,000,000 events. sort=first_seen and sort=users sorted every issue of
-- the project; like last_seen and count (0310) they now walk an index in
-- the requested order (id breaks ties: ORDER BY key, id), with and without
-- the status filter.
CREATE INDEX issues_project_status_first_seen ON issues(project_id, status, first_seen, id);
CREATE INDEX issues_project_first_seen ON issues(project_id, first_seen, id);
CREATE INDEX issues_project_status_users ON issues(project_id, status, user_count, id);
DROP INDEX issues_project_users;
CREATE INDEX issues_project_users ON issues(project_id, user_count, id);
