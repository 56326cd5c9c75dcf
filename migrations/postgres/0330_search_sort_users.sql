-- Issue 19: sort=users walks an index in (user_count, id) order — the
-- cursor's order — with or without a status filter (the default list is
-- is:unresolved), like the other sort keys' indexes of 0310.
DROP INDEX issues_project_users;
CREATE INDEX issues_project_users ON issues(project_id, user_count, id);
CREATE INDEX issues_project_status_users ON issues(project_id, status, user_count, id);
