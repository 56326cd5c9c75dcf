-- Issue 19: sort=users walks an index in (user_count, id) order — the
-- cursor's order; an SQLite index ends with the rowid (id) already — with
-- or without a status filter (the default list is is:unresolved).
CREATE INDEX issues_project_status_users ON issues(project_id, status, user_count);
