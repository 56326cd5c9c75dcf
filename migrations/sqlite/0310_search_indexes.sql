-- Issue 19: a search over 100,000 issues answers within 100 ms.

-- Sorts: the default list (status filter, newest first) and sort=count walk
-- an index in the requested order instead of sorting every matching issue
-- (an SQLite index ends with the rowid, id: ORDER BY key, id needs no sort).
CREATE INDEX issues_project_status_last_seen ON issues(project_id, status, last_seen);
CREATE INDEX issues_project_status_times_seen ON issues(project_id, status, times_seen);
CREATE INDEX issues_project_times_seen ON issues(project_id, times_seen);

-- Free text: a trigram index over title, culprit and message (FTS5 with the
-- trigram tokenizer, reading its text from issues), kept in step by the
-- triggers below. The list uses it to find candidate issues (LIKE on its
-- columns); the exact LIKE on issues still decides.
CREATE VIRTUAL TABLE issues_fts USING fts5(
    title, culprit, message, content='issues', content_rowid='id', tokenize='trigram');
INSERT INTO issues_fts(rowid, title, culprit, message) SELECT id, title, culprit, message FROM issues;

CREATE TRIGGER issues_fts_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issues_fts(rowid, title, culprit, message)
    VALUES (new.id, new.title, new.culprit, new.message);
END;
CREATE TRIGGER issues_fts_delete AFTER DELETE ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, title, culprit, message)
    VALUES ('delete', old.id, old.title, old.culprit, old.message);
END;
CREATE TRIGGER issues_fts_update AFTER UPDATE OF title, culprit, message ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, title, culprit, message)
    VALUES ('delete', old.id, old.title, old.culprit, old.message);
    INSERT INTO issues_fts(rowid, title, culprit, message)
    VALUES (new.id, new.title, new.culprit, new.message);
END;
